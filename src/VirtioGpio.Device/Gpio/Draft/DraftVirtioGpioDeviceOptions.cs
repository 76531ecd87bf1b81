// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio.Draft;

/// <summary>
/// Options of <see cref="DraftVirtioGpioDevice"/>, the pre-standard (Dec 2020 draft) virtio-gpio device. The draft dialect
/// is always an explicit choice: nothing auto-detects it (DRAFT.md header).
/// </summary>
public sealed class DraftVirtioGpioDeviceOptions
{
    /// <summary>The draft's device ID (DRAFT.md §1). Note that the virtio registry assigns 30 to the video encoder.</summary>
    public const uint DefaultDeviceId = 30;

    /// <summary>The v3 header's reply mask <c>VIRTIO_GPIO_MSG_REPLY</c>.</summary>
    public const ushort DefaultReplyMask = 0xF000;

    /// <summary>The default largest queue size (QEMU's limit, DRAFT.md §0 rule 7).</summary>
    public const int DefaultMaxQueueSize = 1024;

    /// <summary>The virtio device ID: 30 by default; 41 for v4-style setups (DRAFT.md §1).</summary>
    public uint DeviceId { get; set; } = DefaultDeviceId;

    /// <summary>
    /// Bits OR-ed into the type of every reply: 0xF000 (default, v3 header), 0x8000 (later revision) or 0. The driver strips
    /// 0xF000, so all three work (DRAFT.md §4.2). The prose's "OR HOST_LEVEL" encoding is deliberately not offered (B22).
    /// </summary>
    public ushort ReplyMask { get; set; } = DefaultReplyMask;

    /// <summary>
    /// Largest size of queue 1 ("out", driver → device requests). The driver never reclaims q1 descriptors, so this is the
    /// lifetime request budget per reset (DRAFT.md §3.3, B2): make it as large as the transport allows. A power of two,
    /// 2..32768; default 1024.
    /// </summary>
    public int RequestQueueMaxSize { get; set; } = DefaultMaxQueueSize;

    /// <summary>Largest size of queue 0 ("in", device → driver messages in driver-posted buffers). A power of two, 2..32768 (q0 needs ≥ 2 entries); default 1024.</summary>
    public int ReplyQueueMaxSize { get; set; } = DefaultMaxQueueSize;

    /// <summary>
    /// <c>num_gpios</c> (1..256). <see langword="null"/>: the backend's line count, or 8 when the device creates its own
    /// <see cref="SimulatedGpioLineBackend"/>.
    /// </summary>
    public int? LineCount { get; set; }

    /// <summary>The chip label in config <c>name[32]</c> (7-bit ASCII, ≤ 32 bytes). Empty: the driver uses the device name.</summary>
    public string ChipName { get; set; } = string.Empty;

    /// <summary>
    /// Line names for the config names block, in line order; may be shorter than the line count (the remaining lines are
    /// unnamed). <see langword="null"/>: the backend's names (trailing unnamed lines dropped; no block when none is named).
    /// An empty list: no names block (<c>names_size = 0</c>).
    /// </summary>
    public IReadOnlyList<string?>? LineNames { get; set; }

    /// <summary>Which <c>names_size</c> values to pad away from (DRAFT.md §2.5); default <see cref="DraftNamesSizePolicy.LinuxX8664v61"/>.</summary>
    public DraftNamesSizePolicy NamesSizePolicy { get; set; } = DraftNamesSizePolicy.LinuxX8664v61;

    /// <summary>The transport's config-size limit: 256 under QEMU vhost-user (default, DRAFT.md §2.3); raise it for PCI or MMIO.</summary>
    public int MaxConfigSize { get; set; } = DraftGpioConfig.VhostUserMaxConfigSize;

    /// <summary>
    /// Whether input level changes are sent to the guest as asynchronous <c>HOST_LEVEL</c> messages (DRAFT.md §6). Off by
    /// default: the driver routes them to Linux's "bad IRQ" handler, and they race the request path (B10, B11, B14). An
    /// opt-in fault-injection feature.
    /// </summary>
    public bool EnableHostLevel { get; set; }

    /// <summary>
    /// Whether <c>SET_VALUE</c> on a line that is not an output is accepted (the value is latched and driven once the line
    /// becomes an output). Default <see langword="false"/>: the "outputs only" policy replies −EPERM (DRAFT.md §10 test 12).
    /// </summary>
    public bool AllowSetValueOnInput { get; set; }

    /// <summary>Clock of the <see cref="SimulatedGpioLineBackend"/> the device creates when none is given; <see cref="TimeProvider.System"/> when <see langword="null"/>.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate()
    {
        if (ReplyMask is not (0xF000 or 0x8000 or 0))
        {
            throw new ArgumentException($"ReplyMask must be 0xF000, 0x8000 or 0, not 0x{ReplyMask:x4} (DRAFT.md §4.2).", nameof(ReplyMask));
        }

        CheckQueueSize(RequestQueueMaxSize, nameof(RequestQueueMaxSize));
        CheckQueueSize(ReplyQueueMaxSize, nameof(ReplyQueueMaxSize));
        if (LineCount is int n && (n < 1 || n > DraftGpioConfig.MaxLineCount))
        {
            throw new ArgumentException($"LineCount must be 1..{DraftGpioConfig.MaxLineCount}, not {n}.", nameof(LineCount));
        }

        if (ChipName is null)
        {
            throw new ArgumentException("ChipName must not be null.", nameof(ChipName));
        }

        if (NamesSizePolicy is null)
        {
            throw new ArgumentException("NamesSizePolicy must not be null.", nameof(NamesSizePolicy));
        }

        if (MaxConfigSize < DraftGpioConfig.HeaderSize)
        {
            throw new ArgumentException($"MaxConfigSize must be at least {DraftGpioConfig.HeaderSize}.", nameof(MaxConfigSize));
        }
    }

    private static void CheckQueueSize(int size, string name)
    {
        if (size < 2 || size > 32768 || (size & (size - 1)) != 0)
        {
            throw new ArgumentException($"{name} must be a power of two in 2..32768, not {size} (DRAFT.md §3.3).", name);
        }
    }
}
