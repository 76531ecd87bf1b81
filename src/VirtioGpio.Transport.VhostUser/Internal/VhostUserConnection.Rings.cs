// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;
using VirtioGpio.Transport.VhostUser.Inflight;

namespace VirtioGpio.Transport.VhostUser.Internal;

/// <content>The ring state machine: when the device queue runs (VHOST-USER.md §6).</content>
internal sealed partial class VhostUserConnection
{
    /// <summary>
    /// Brings the device queue in line with the ring state: it runs exactly when the ring is
    /// started, enabled, sized, addressed and memory is mapped. Stopped or disabled rings are
    /// never touched; a ring without addresses is never accessed (VU8).
    /// </summary>
    private void UpdateRing(VringState ring)
    {
        bool wanted = ring.Started && ring.Enabled && ring.Num != 0 && ring.HasAddress && _memory.Memory is not null;
        if (!wanted)
        {
            StopQueue(ring);
            return;
        }

        if (!ring.Ready)
        {
            StartQueue(ring);
        }
    }

    private void StopQueue(VringState ring)
    {
        if (ring.Ready)
        {
            _ = _device.SetQueueReady(ring.Index, false);
            ring.Ready = false;
            Log.RingState(_logger, ring.Index, "not ready");
        }
    }

    /// <summary>Translates the three ring ranges through the memory table: each whole range inside one region (§6.4, LVU-7).</summary>
    private bool TryTranslateRing(VringState ring, out GuestAddress descriptors, out GuestAddress avail, out GuestAddress used, out string? reason)
    {
        int n = ring.Num;
        if (!_memory.TryTranslateUser(ring.Address.Descriptor, SplitQueue.GetDescriptorTableSize(n), out descriptors))
        {
            avail = used = default;
            reason = $"ring {ring.Index}: descriptor table 0x{ring.Address.Descriptor:x} (+{SplitQueue.GetDescriptorTableSize(n)}) is not inside one memory region";
            return false;
        }

        if (!_memory.TryTranslateUser(ring.Address.Avail, SplitQueue.GetAvailRingSize(n), out avail))
        {
            used = default;
            reason = $"ring {ring.Index}: avail ring 0x{ring.Address.Avail:x} (+{SplitQueue.GetAvailRingSize(n)}) is not inside one memory region";
            return false;
        }

        if (!_memory.TryTranslateUser(ring.Address.Used, SplitQueue.GetUsedRingSize(n), out used))
        {
            reason = $"ring {ring.Index}: used ring 0x{ring.Address.Used:x} (+{SplitQueue.GetUsedRingSize(n)}) is not inside one memory region";
            return false;
        }

        if (!descriptors.IsAligned(SplitQueue.DescriptorTableAlignment) || !avail.IsAligned(SplitQueue.AvailRingAlignment) || !used.IsAligned(SplitQueue.UsedRingAlignment))
        {
            reason = $"ring {ring.Index}: misaligned ring address";
            return false;
        }

        reason = null;
        return true;
    }

    private void RingNotStarted(VringState ring, string reason)
    {
        VhostUserMetrics.Errors.Add(1, new KeyValuePair<string, object?>("kind", "ring"));
        if (_limiter.TryAcquire(out long suppressed))
        {
            ReportSuppressed(suppressed);
            Log.RingNotStarted(_logger, ring.Index, reason);
        }
    }

    private void StartQueue(VringState ring)
    {
        RegionGuestMemory memory = _memory.Memory!;
        if (!TryTranslateRing(ring, out GuestAddress descriptors, out GuestAddress avail, out GuestAddress used, out string? reason))
        {
            RingNotStarted(ring, reason!);
            return;
        }

        if (!EnsureDeviceActive(memory))
        {
            RingNotStarted(ring, "the device refused the negotiated features");
            return;
        }

        int index = ring.Index;
        SplitQueue queue = _device.GetQueue(index);

        // VHOST-USER.md §6.3: chains held across a stop/start survive only when the restart uses
        // the same ring (size, addresses) and the base that was returned; otherwise the driver
        // re-initialised the queue and they are forgotten, not completed.
        if (ring.Configured)
        {
            bool same = queue.Size == ring.Num
                && queue.DescriptorTableAddress == descriptors && queue.AvailRingAddress == avail && queue.UsedRingAddress == used
                && (!ring.BaseDirty || queue.NextAvailIndex == ring.Base);
            if (!same)
            {
                _device.ResetQueue(index);
                ring.Configured = false;
            }
        }

        queue.Memory = memory;
        if (queue.Size != ring.Num && !queue.TrySetSize(ring.Num))
        {
            RingNotStarted(ring, $"size {ring.Num} exceeds the queue maximum {queue.MaxSize}");
            return;
        }

        if (!queue.TrySetAddresses(descriptors, avail, used))
        {
            RingNotStarted(ring, "misaligned ring address");
            return;
        }

        if (!ring.Configured || (ring.BaseDirty && queue.NextAvailIndex != ring.Base))
        {
            _ = queue.TrySetNextAvailIndex(ring.Base);
        }

        ring.BaseDirty = false;
        InflightQueueTracker? tracker = _trackers[index];
        queue.Tracker = tracker;
        ushort[]? resubmit = null;
        if (ring.RecoverInflight && tracker is not null)
        {
            ring.RecoverInflight = false;
            if (used.TryAdd(2, out GuestAddress usedIdxAddress) && memory.TryLoadAcquireUInt16(usedIdxAddress, out ushort usedIdx) == GuestMemoryError.None)
            {
                resubmit = tracker.Recover(usedIdx, ring.Num);
            }
        }

        // The front-end owns used->idx across restarts: read it back (VHOST-USER.md §6.3).
        VirtqueueError error = queue.TrySyncUsedIndexFromRing();
        if (error != VirtqueueError.None)
        {
            RingNotStarted(ring, "used->idx unreadable: " + error);
            return;
        }

        ring.Configured = true;
        if (resubmit is { Length: > 0 })
        {
            // The device keeps these heads and processes them first when the queue becomes ready,
            // before anything new on the avail ring (IVirtioDevice.ResubmitInflight).
            Log.Resubmitting(_logger, index, resubmit.Length);
            _device.ResubmitInflight(index, resubmit);
        }

        error = _device.SetQueueReady(index, true);
        if (error != VirtqueueError.None)
        {
            RingNotStarted(ring, "the device refused the ring: " + error);
            return;
        }

        ring.Ready = true;
        ring.ErrSignalled = false;
        Log.RingState(_logger, index, $"ready (size {ring.Num}, base {queue.NextAvailIndex}, used {queue.NextUsedIndex})");
        if (Volatile.Read(ref _pendingConfigChange) == 1)
        {
            Interlocked.Exchange(ref _pendingConfigChange, 0);
            TrySendConfigChange();
        }
    }

    /// <summary>Activates the device (features, memory, sink) the first time a ring starts, and again after a reset or a memory change.</summary>
    private bool EnsureDeviceActive(RegionGuestMemory memory)
    {
        if (_device.IsActive && ReferenceEquals(_activatedMemory, memory))
        {
            return true;
        }

        if (!_device.IsActive)
        {
            ulong deviceFeatures = _ackedFeatures & ~ProtocolFeaturesBit;
            if (_device.DriverFeatures != deviceFeatures && !_device.TryAcceptFeatures(deviceFeatures))
            {
                return false;
            }
        }

        try
        {
            _device.Activate(memory, _sink);
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        _activatedMemory = memory;
        return true;
    }
}
