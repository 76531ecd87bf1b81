// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <content>Completing chains and notification suppression (VIRTIO 1.3 §2.7.7, §2.7.8, §2.7.10).</content>
public sealed partial class SplitQueue
{
    /// <summary>
    /// Writes a used element and publishes <c>used.idx</c> with release semantics. Chains may be
    /// completed in any order. Calls the <see cref="Tracker"/> hooks when one is set.
    /// </summary>
    /// <param name="headIndex">The head of a chain that was popped (or read with <see cref="TryReadChain"/>) and not yet completed.</param>
    /// <param name="writtenLength">Bytes written into the chain's device-writable buffers (<see cref="DescriptorChainWriter.BytesWritten"/>).</param>
    /// <returns><see cref="VirtqueueError.None"/> on success; <see cref="VirtqueueError.InvalidUsedHead"/> when the head is out of
    /// range or not in flight (nothing is written); <see cref="VirtqueueError.QueueNotReady"/> / <see cref="VirtqueueError.QueueBroken"/>;
    /// <see cref="VirtqueueError.RingMemoryUnavailable"/> when the used ring cannot be written (the queue breaks).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public VirtqueueError AddUsed(ushort headIndex, uint writtenLength)
    {
        if (!_ready || _broken)
        {
            return _broken ? VirtqueueError.QueueBroken : VirtqueueError.QueueNotReady;
        }

        // The used element's id "matches an entry placed in the available ring by the guest earlier"
        // (VIRTIO 1.3 §2.7.8 "The Virtqueue Used Ring"): only a head in flight may be completed, once.
        bool[] inFlight = _inFlight;
        if (headIndex >= _size || !inFlight[headIndex])
        {
            return VirtqueueError.InvalidUsedHead;
        }

        // VIRTIO 1.3 §2.7.8.2 "Device Requirements: The Virtqueue Used Ring": "The device MUST set len
        // prior to updating the used idx" — the element first, then idx with a release store.
        ISplitQueueTracker? tracker = Tracker;
        ushort nextUsed = unchecked((ushort)(_nextUsed + 1)); // wraps by design: 16-bit free-running ring index
        if (_usedHost.IsValid)
        {
            // SAFETY: the used ring was checked at activation and its host location is 2-byte aligned
            // (ResolveRingHost); the slot is masked to < size. One store of le32 id | le32 len << 32.
            ref byte ring = ref _usedHost.At(0);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref ring, UsedEntriesOffset + ((_nextUsed & _mask) * UsedEntrySize)), headIndex | ((ulong)writtenLength << 32));
            tracker?.OnCompleting(headIndex);
            Volatile.Write(ref Unsafe.As<byte, ushort>(ref Unsafe.Add(ref ring, UsedIdxOffset)), nextUsed);
        }
        else
        {
            if (!TryWriteUsedElement(_nextUsed & _mask, headIndex, writtenLength))
            {
                return Break(VirtqueueError.RingMemoryUnavailable);
            }

            tracker?.OnCompleting(headIndex);
            if (!TryStoreUsedIdx(nextUsed))
            {
                return Break(VirtqueueError.RingMemoryUnavailable);
            }
        }

        _nextUsed = nextUsed;
        inFlight[headIndex] = false;
        _inFlightCount--;
        tracker?.OnUsedIndexPublished(nextUsed);
        return VirtqueueError.None;
    }

    /// <summary>
    /// Whether the driver must be notified about the used entries published since the last call
    /// (VIRTIO 1.3 §2.7.7 "Used Buffer Notification Suppression"). With VIRTIO_F_EVENT_IDX: the
    /// wrap-aware <c>vring_need_event(used_event, new, old)</c> over the entries published since
    /// the previous call. Without it: notify unless the driver set VRING_AVAIL_F_NO_INTERRUPT.
    /// Returns <see langword="false"/> when nothing was published since the previous call, and
    /// <see langword="true"/> (a harmless spurious notification) once after a state restore or when
    /// the avail ring cannot be read.
    /// </summary>
    /// <returns><see langword="true"/> when a used-buffer notification is due.</returns>
    public bool NeedsNotification()
    {
        if (!_ready || _broken)
        {
            return false;
        }

        ushort newUsed = _nextUsed;
        ushort oldUsed = _lastNotifyUsed;
        bool baselineValid = _notifyBaselineValid;
        _lastNotifyUsed = newUsed;
        _notifyBaselineValid = true;
        if (baselineValid && newUsed == oldUsed)
        {
            return false;
        }

        // Order the used.idx store before reading the driver's suppression fields; otherwise a
        // driver re-enabling interrupts concurrently could be missed (the classic lost-wakeup race).
        Interlocked.MemoryBarrier();

        if (_eventIdxEnabled)
        {
            // §2.7.7.2 "Device Requirements": with EVENT_IDX the device MUST ignore the lower bit of flags
            // and MUST notify when the idx that placed the descriptor equalled used_event.
            if (!TryReadUsedEvent(out ushort usedEvent) || !baselineValid)
            {
                return true;
            }

            // vring_need_event: (u16)(new - event - 1) < (u16)(new - old); wraps by design (16-bit ring indices).
            return unchecked((ushort)(newUsed - usedEvent - 1)) < unchecked((ushort)(newUsed - oldUsed));
        }

        // §2.7.7.2: without EVENT_IDX, flags 1 (VRING_AVAIL_F_NO_INTERRUPT) → SHOULD NOT notify; 0 → MUST notify.
        // used_event is ignored.
        if (!TryReadAvailFlags(out ushort flags))
        {
            return true;
        }

        return (flags & AvailFlagNoInterrupt) == 0;
    }

    /// <summary>
    /// Asks the driver to notify (kick), or not, on new avail entries (VIRTIO 1.3 §2.7.10 "Available
    /// Buffer Notification Suppression"): <c>used.flags</c> VRING_USED_F_NO_NOTIFY without
    /// EVENT_IDX; with EVENT_IDX, enabling writes <c>avail_event</c> = <see cref="NextAvailIndex"/>
    /// and disabling writes nothing (flags stay 0, as §2.7.10.2 requires). Ends with a full fence:
    /// after enabling, call <see cref="HasAvailable"/> again so an entry published just before is not missed.
    /// </summary>
    /// <param name="enabled">Whether available-buffer notifications are wanted.</param>
    /// <returns><see cref="VirtqueueError.None"/> on success.</returns>
    public VirtqueueError SetAvailNotifications(bool enabled)
    {
        if (!_ready || _broken)
        {
            return _broken ? VirtqueueError.QueueBroken : VirtqueueError.QueueNotReady;
        }

        bool ok;
        if (_eventIdxEnabled)
        {
            ok = !enabled || TryStoreAvailEvent(_nextAvail);
        }
        else
        {
            ok = TryStoreUsedFlags(enabled ? (ushort)0 : UsedFlagNoNotify);
        }

        if (!ok)
        {
            return Break(VirtqueueError.RingMemoryUnavailable);
        }

        Interlocked.MemoryBarrier();
        return VirtqueueError.None;
    }
}
