// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <summary>
/// The device side of one split virtqueue (VIRTIO 1.3 §2.7 "Split Virtqueues").
/// </summary>
/// <remarks>
/// <para>Not thread-safe: owned by the device, which serialises every access. Nothing the guest
/// writes makes it throw or allocate.</para>
/// </remarks>
public sealed partial class SplitQueue
{
    /// <summary>The largest queue size the split ring allows.</summary>
    public const int MaxQueueSize = 32768;

    /// <summary>Creates an unconfigured queue.</summary>
    /// <param name="maxSize">The largest size the device accepts: a power of two, 1..32768.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSize"/> is not a power of two in range.</exception>
    public SplitQueue(int maxSize) => throw new NotImplementedException();

    /// <summary>The largest size the device accepts (QueueSizeMax / QueueNumMax).</summary>
    public ushort MaxSize => throw new NotImplementedException();

    /// <summary>The configured size, or 0 when unset.</summary>
    public ushort Size => throw new NotImplementedException();

    /// <summary>Guest memory the rings and buffers live in; set by the device or transport while the queue is not ready.</summary>
    public IGuestMemory? Memory { get => throw new NotImplementedException(); set => throw new NotImplementedException(); }

    /// <summary>Guest address of the descriptor table.</summary>
    public GuestAddress DescriptorTableAddress => throw new NotImplementedException();

    /// <summary>Guest address of the avail ring.</summary>
    public GuestAddress AvailRingAddress => throw new NotImplementedException();

    /// <summary>Guest address of the used ring.</summary>
    public GuestAddress UsedRingAddress => throw new NotImplementedException();

    /// <summary>Whether VIRTIO_F_RING_INDIRECT_DESC was negotiated.</summary>
    public bool IndirectDescriptorsEnabled { get => throw new NotImplementedException(); set => throw new NotImplementedException(); }

    /// <summary>Whether VIRTIO_F_RING_EVENT_IDX was negotiated.</summary>
    public bool EventIdxEnabled { get => throw new NotImplementedException(); set => throw new NotImplementedException(); }

    /// <summary>Whether the device may access the rings.</summary>
    public bool IsReady => throw new NotImplementedException();

    /// <summary>Whether a ring-level error stopped the queue until reset.</summary>
    public bool IsBroken => throw new NotImplementedException();

    /// <summary>The ring-level error that broke the queue.</summary>
    public VirtqueueError BrokenReason => throw new NotImplementedException();

    /// <summary>Free-running index of the next avail entry to take.</summary>
    public ushort NextAvailIndex => throw new NotImplementedException();

    /// <summary>Free-running index of the next used entry to publish.</summary>
    public ushort NextUsedIndex => throw new NotImplementedException();

    /// <summary>Number of chains completed with used length 0 because they were malformed.</summary>
    public long InvalidChainCount => throw new NotImplementedException();

    /// <summary>The error of the most recent malformed chain.</summary>
    public VirtqueueError LastChainError => throw new NotImplementedException();

    /// <summary>Optional inflight tracker (vhost-user INFLIGHT_SHMFD).</summary>
    public ISplitQueueTracker? Tracker { get => throw new NotImplementedException(); set => throw new NotImplementedException(); }

    /// <summary>Sets the queue size.</summary>
    /// <param name="size">A power of two, 1..<see cref="MaxSize"/>.</param>
    /// <returns><see langword="false"/> when the size is invalid or the queue is ready.</returns>
    public bool TrySetSize(int size) => throw new NotImplementedException();

    /// <summary>Sets the three ring addresses, checking the spec's alignment (16, 2, 4).</summary>
    /// <param name="descriptorTable">Descriptor table address.</param>
    /// <param name="availRing">Avail ring address.</param>
    /// <param name="usedRing">Used ring address.</param>
    /// <returns><see langword="false"/> when misaligned or the queue is ready.</returns>
    public bool TrySetAddresses(GuestAddress descriptorTable, GuestAddress availRing, GuestAddress usedRing) => throw new NotImplementedException();

    /// <summary>Makes the queue ready after checking size, memory and that every ring range lies in guest memory.</summary>
    /// <returns><see cref="VirtqueueError.None"/> on success.</returns>
    public VirtqueueError TryActivate() => throw new NotImplementedException();

    /// <summary>Stops all ring access; state is kept.</summary>
    public void Deactivate() => throw new NotImplementedException();

    /// <summary>Returns the queue to its unconfigured state.</summary>
    public void Reset() => throw new NotImplementedException();

    /// <summary>Captures the state for save/restore and vhost-user GET_VRING_BASE.</summary>
    /// <returns>The current state.</returns>
    public SplitQueueState GetState() => throw new NotImplementedException();

    /// <summary>Restores a captured state while the queue is not ready.</summary>
    /// <param name="state">The state to restore.</param>
    /// <returns><see langword="false"/> when the state is invalid or the queue is ready.</returns>
    public bool TrySetState(SplitQueueState state) => throw new NotImplementedException();

    /// <summary>Sets the next-avail index (vhost-user SET_VRING_BASE) while the queue is not ready.</summary>
    /// <param name="nextAvailIndex">The free-running index.</param>
    /// <returns><see langword="false"/> when the queue is ready.</returns>
    public bool TrySetNextAvailIndex(ushort nextAvailIndex) => throw new NotImplementedException();

    /// <summary>Reads <c>used.idx</c> from guest memory into <see cref="NextUsedIndex"/> (vhost-user ring start).</summary>
    /// <returns><see cref="VirtqueueError.None"/> on success.</returns>
    public VirtqueueError TrySyncUsedIndexFromRing() => throw new NotImplementedException();

    /// <summary>Takes the next valid chain; malformed chains are completed with length 0 and skipped.</summary>
    /// <param name="chain">The popped chain, valid until the next pop or read.</param>
    /// <param name="error">The ring-level error when the queue broke; <see cref="VirtqueueError.None"/> when simply empty.</param>
    /// <returns><see langword="true"/> when a chain was popped.</returns>
    public bool TryPopAvailable(out DescriptorChain chain, out VirtqueueError error) => throw new NotImplementedException();

    /// <summary>Whether the avail ring holds entries not yet taken.</summary>
    /// <returns><see langword="true"/> when at least one entry is available.</returns>
    public bool HasAvailable() => throw new NotImplementedException();

    /// <summary>Reads the chain at <paramref name="headIndex"/> without touching the avail ring (inflight resubmission).</summary>
    /// <param name="headIndex">The head descriptor index.</param>
    /// <param name="chain">The chain.</param>
    /// <param name="error">Why the chain is invalid.</param>
    /// <returns><see langword="true"/> when the chain is valid.</returns>
    public bool TryReadChain(ushort headIndex, out DescriptorChain chain, out VirtqueueError error) => throw new NotImplementedException();

    /// <summary>Writes a used element and publishes <c>used.idx</c> with release semantics.</summary>
    /// <param name="headIndex">The head of a popped chain.</param>
    /// <param name="writtenLength">Bytes written into the chain's device-writable buffers.</param>
    /// <returns><see cref="VirtqueueError.None"/> on success.</returns>
    public VirtqueueError AddUsed(ushort headIndex, uint writtenLength) => throw new NotImplementedException();

    /// <summary>Whether the driver must be notified about the used entries published since the last call (VIRTIO 1.3 §2.7.10 "Used Buffer Notification Suppression").</summary>
    /// <returns><see langword="true"/> when a used-buffer notification is due.</returns>
    public bool NeedsNotification() => throw new NotImplementedException();

    /// <summary>Asks the driver to kick, or not, on new avail entries (used.flags NO_NOTIFY or avail_event).</summary>
    /// <param name="enabled">Whether available-buffer notifications are wanted.</param>
    /// <returns><see cref="VirtqueueError.None"/> on success.</returns>
    public VirtqueueError SetAvailNotifications(bool enabled) => throw new NotImplementedException();
}
