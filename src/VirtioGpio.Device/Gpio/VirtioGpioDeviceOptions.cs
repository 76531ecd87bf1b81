// SPDX-License-Identifier: MIT
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace VirtioGpio.Device.Gpio;

/// <summary>
/// Configuration of a <see cref="VirtioGpioDevice"/> (the standard device, ID 41). Every feature the device can
/// offer is switchable; the defaults follow STANDARD.md (interrupts, indirect descriptors and EVENT_IDX offered;
/// VIRTIO_F_VERSION_1 always; lenient policies that cannot start the Linux livelock of §9.4).
/// </summary>
/// <example>
/// <code>
/// var device = new VirtioGpioDevice(new VirtioGpioDeviceOptions
/// {
///     LineNames = new GpioLineNames(new[] { "LED", "BUTTON" }),
///     RequestQueueMaxSize = 1024,   // QEMU's virtio-mmio uses 1024-entry rings
///     EventQueueMaxSize = 1024,
/// });
/// var lines = (SimulatedGpioLineBackend)device.Backend;
/// lines.Pulse(1);
/// </code>
/// </example>
public sealed class VirtioGpioDeviceOptions
{
    /// <summary>The default maximum queue size.</summary>
    public const int DefaultQueueMaxSize = 256;

    /// <summary>
    /// Number of lines (<c>ngpio</c>, 1..65535). 0 (the default) takes it from <see cref="LineNames"/> or
    /// <see cref="Backend"/>; when several are given they must agree.
    /// </summary>
    public int LineCount { get; set; }

    /// <summary>
    /// Line names (GET_LINE_NAMES, STANDARD.md §5). <see langword="null"/>: the backend's names
    /// (<see cref="GpioLineBackend.GetLineName(int)"/>), or unnamed lines.
    /// </summary>
    public GpioLineNames? LineNames { get; set; }

    /// <summary>
    /// Whether the device implements GET_LINE_NAMES when at least one line has a name (<c>gpio_names_size</c> =
    /// block size). When <see langword="false"/>, or when no line has a name, <c>gpio_names_size</c> is 0 and
    /// GET_LINE_NAMES answers ERR (D3, S6). Default <see langword="true"/>.
    /// </summary>
    public bool ExposeLineNames { get; set; } = true;

    /// <summary>
    /// The host side of the lines. <see langword="null"/>: a new <see cref="SimulatedGpioLineBackend"/> that the
    /// device owns and disposes. A backend passed in is not disposed by the device. A backend serves one device.
    /// </summary>
    public GpioLineBackend? Backend { get; set; }

    /// <summary>Offer <c>VIRTIO_GPIO_F_IRQ</c> (bit 0): the eventq and SET_IRQ_TYPE. Default <see langword="true"/>.</summary>
    public bool OfferInterrupts { get; set; } = true;

    /// <summary>Offer <c>VIRTIO_F_RING_INDIRECT_DESC</c> (bit 28). Default <see langword="true"/>.</summary>
    public bool OfferIndirectDescriptors { get; set; } = true;

    /// <summary>Offer <c>VIRTIO_F_RING_EVENT_IDX</c> (bit 29). Default <see langword="true"/>.</summary>
    public bool OfferEventIndex { get; set; } = true;

    /// <summary>Maximum requestq size (QueueSizeMax): a power of two, 1..32768. Default 256. Use 1024 or more behind
    /// QEMU's virtio-mmio or vhost-user front-ends that size rings at 1024 (PEERS.md VDG-13).</summary>
    public int RequestQueueMaxSize { get; set; } = DefaultQueueMaxSize;

    /// <summary>Maximum eventq size: a power of two, 1..32768. Default 256.</summary>
    public int EventQueueMaxSize { get; set; } = DefaultQueueMaxSize;

    /// <summary>
    /// Strict S4: an eventq pair for a line whose interrupt is not enabled is returned INVALID instead of being
    /// held until the line is enabled. Rate-limited per line by <see cref="StrictInvalidReturnBurst"/> per
    /// <see cref="StrictInvalidReturnInterval"/>; past the limit the pair is held (STANDARD.md §6.1, §9.4).
    /// Default <see langword="false"/> (hold).
    /// </summary>
    public bool StrictUnarmedEventPairs { get; set; }

    /// <summary>With <see cref="StrictUnarmedEventPairs"/>: INVALID returns allowed per line per interval. Default 4.</summary>
    public int StrictInvalidReturnBurst { get; set; } = 4;

    /// <summary>With <see cref="StrictUnarmedEventPairs"/>: the rate-limit window. Default 1 second.</summary>
    public TimeSpan StrictInvalidReturnInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// R8 option: SET_IRQ_TYPE(t2) while a different t1 is enabled is treated as disable followed by enable (the
    /// latch is discarded, a held pair stays armed) instead of being answered ERR. Default <see langword="false"/>.
    /// </summary>
    public bool ImplicitIrqTypeChange { get; set; }

    /// <summary>
    /// GET_VALUE on a line whose direction is NONE: <see langword="true"/> (default) answers OK with the sensed
    /// level (STANDARD.md §4.4 recommendation); <see langword="false"/> answers ERR.
    /// </summary>
    public bool ReadUnconfiguredLines { get; set; } = true;

    /// <summary>Logger factory (Debug: rate-limited guest errors; Warning: broken queues, backend failures).</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Clock for rate limiters and event timestamps. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Creates the "VirtioGpio" meter; <see langword="null"/> uses a process-wide meter of that name.</summary>
    public IMeterFactory? MeterFactory { get; set; }
}
