// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device;

/// <summary>
/// The transport-facing contract of a virtio device. It knows nothing about transports, and a
/// transport needs nothing else to serve the device (virtio-mmio, virtio-pci, vhost-user).
/// </summary>
/// <remarks>
/// <para>Thread safety: every member may be called from any thread; the device serialises
/// internally. After <see cref="SetQueueReady(int, bool)"/> with <see langword="false"/> or
/// <see cref="Reset"/> returns, the device no longer touches that queue's memory and sends no
/// notification for it (vhost-user "Suspended device state").</para>
/// <para>Typical sequence: <see cref="TryAcceptFeatures(ulong)"/> (FEATURES_OK), configure each
/// <see cref="GetQueue(int)"/> (size, addresses), <see cref="Activate"/> (DRIVER_OK),
/// <see cref="SetQueueReady(int, bool)"/> per queue, then <see cref="NotifyQueue(int)"/> on each
/// driver kick; <see cref="Reset"/> on a status write of 0.</para>
/// </remarks>
public interface IVirtioDevice
{
    /// <summary>The virtio device ID (VIRTIO 1.3 §5 "Device Types").</summary>
    uint DeviceId { get; }

    /// <summary>The features the device offers.</summary>
    ulong DeviceFeatures { get; }

    /// <summary>The features the driver accepted (0 until <see cref="TryAcceptFeatures(ulong)"/> succeeds).</summary>
    ulong DriverFeatures { get; }

    /// <summary>Records the driver's features. Fails, changing nothing, when a bit was not offered, so the transport refuses FEATURES_OK.</summary>
    /// <param name="driverFeatures">The features the driver wrote.</param>
    /// <returns><see langword="false"/> when <paramref name="driverFeatures"/> contains bits not in <see cref="DeviceFeatures"/>.</returns>
    bool TryAcceptFeatures(ulong driverFeatures);

    /// <summary>Size of the device configuration space in bytes.</summary>
    int ConfigSize { get; }

    /// <summary>The configuration generation counter (changes whenever a multi-access read could be inconsistent).</summary>
    uint ConfigGeneration { get; }

    /// <summary>Reads configuration bytes; bytes beyond <see cref="ConfigSize"/> read as zero (saturating arithmetic, never out of bounds).</summary>
    /// <param name="offset">Byte offset into the configuration space.</param>
    /// <param name="destination">Receives the bytes.</param>
    void ReadConfig(uint offset, Span<byte> destination);

    /// <summary>Writes configuration bytes; writes to read-only fields are ignored.</summary>
    /// <param name="offset">Byte offset into the configuration space.</param>
    /// <param name="source">The bytes the driver wrote.</param>
    void WriteConfig(uint offset, ReadOnlySpan<byte> source);

    /// <summary>Number of virtqueues the device has.</summary>
    int QueueCount { get; }

    /// <summary>The device's virtqueue <paramref name="queueIndex"/>, which the transport configures (size, addresses).</summary>
    /// <param name="queueIndex">0 .. <see cref="QueueCount"/> - 1; validate guest-supplied indices first.</param>
    /// <returns>The queue.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range (a transport bug).</exception>
    SplitQueue GetQueue(int queueIndex);

    /// <summary>Whether <see cref="Activate"/> was called since the last reset.</summary>
    bool IsActive { get; }

    /// <summary>Whether the device hit a ring-level guest error and needs a reset (DEVICE_NEEDS_RESET).</summary>
    bool NeedsReset { get; }

    /// <summary>Starts the device (DRIVER_OK): binds guest memory and the interrupt sink and applies the negotiated features to the queues. May be called again while no queue is ready to replace memory or the sink.</summary>
    /// <param name="memory">Guest memory.</param>
    /// <param name="interrupts">Where notifications go.</param>
    void Activate(IGuestMemory memory, IVirtioInterruptSink interrupts);

    /// <summary>Enables or disables processing of a queue. Enabling processes anything already available (a kick that arrived earlier is never lost).</summary>
    /// <param name="queueIndex">The queue.</param>
    /// <param name="ready">Whether the device may use it.</param>
    /// <returns>The activation error of the queue when <paramref name="ready"/> is <see langword="true"/>; <see cref="VirtqueueError.None"/> otherwise.</returns>
    VirtqueueError SetQueueReady(int queueIndex, bool ready);

    /// <summary>The driver notified (kicked) <paramref name="queueIndex"/>. Spurious and out-of-range notifications are ignored.</summary>
    /// <param name="queueIndex">The queue index as the driver wrote it.</param>
    void NotifyQueue(int queueIndex);

    /// <summary>
    /// Processes chains that were taken before a back-end restart and never completed (vhost-user
    /// inflight I/O tracking), in the given order, before anything new on the avail ring.
    /// Heads that are out of range or malformed are completed with used length 0.
    /// </summary>
    /// <param name="queueIndex">The queue.</param>
    /// <param name="headIndices">Heads in increasing inflight-counter order.</param>
    void ResubmitInflight(int queueIndex, ReadOnlySpan<ushort> headIndices);

    /// <summary>
    /// Resets one queue (VIRTIO 1.3 §2.6.1 "Virtqueue Reset", and a vhost-user ring that is
    /// re-initialised or whose front-end disconnected): buffers the device holds for it are
    /// forgotten without being completed. Other device state (line levels, IRQ types, latched
    /// edges) is kept, so a re-armed buffer picks up where the old one left off.
    /// </summary>
    /// <param name="queueIndex">The queue.</param>
    void ResetQueue(int queueIndex);

    /// <summary>Device reset (status 0): every queue and all device state return to defaults; held buffers are forgotten, not completed.</summary>
    void Reset();
}
