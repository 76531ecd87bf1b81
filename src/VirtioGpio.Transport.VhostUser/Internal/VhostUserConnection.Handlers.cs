// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device;
using VirtioGpio.Device.Virtqueues;
using VirtioGpio.Transport.VhostUser.Inflight;
using VirtioGpio.Transport.VhostUser.Interop;
using VirtioGpio.Transport.VhostUser.Memory;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Internal;

/// <content>Semantic validation and handling of each front-end request.</content>
internal sealed partial class VhostUserConnection
{
    private Outcome HandleSetFeatures(ulong features)
    {
        // VHOST-USER.md §3 SET_FEATURES: reject bits that were not offered.
        if ((features & ~_offeredFeatures) != 0)
        {
            return Reject($"features 0x{features:x} contain bits never offered (offered 0x{_offeredFeatures:x})");
        }

        ulong deviceFeatures = features & ~ProtocolFeaturesBit;
        if (AnyRingReady() && features != _ackedFeatures)
        {
            return Reject("features cannot change while a ring runs");
        }

        if (_device.DriverFeatures != deviceFeatures && !_device.TryAcceptFeatures(deviceFeatures))
        {
            if (!_device.IsActive || AnyRingReady())
            {
                return Reject($"the device refused features 0x{deviceFeatures:x}");
            }

            // Every ring is stopped and the driver negotiated other features: without STATUS or
            // RESET_DEVICE this is the only sign of a driver reset (VHOST-USER.md §9), so the
            // device is reset before it takes the new features.
            _device.Reset();
            _activatedMemory = null;
            foreach (VringState ring in _rings)
            {
                ring.Configured = false;
            }

            if (!_device.TryAcceptFeatures(deviceFeatures))
            {
                return Reject($"the device refused features 0x{deviceFeatures:x}");
            }
        }

        _ackedFeatures = features;
        _featuresSet = true;
        if ((features & ProtocolFeaturesBit) == 0)
        {
            // "Without bit 30, enable all rings immediately."
            foreach (VringState ring in _rings)
            {
                ring.Enabled = true;
                UpdateRing(ring);
            }
        }

        return Outcome.Ok;
    }

    private Outcome HandleSetProtocolFeatures(VhostUserProtocolFeatures features)
    {
        const VhostUserProtocolFeatures InbandNeeds = VhostUserProtocolFeatures.BackendReq | VhostUserProtocolFeatures.ReplyAck;
        if ((features & VhostUserProtocolFeatures.InbandNotifications) != 0 && (features & InbandNeeds) != InbandNeeds)
        {
            // VHOST-USER.md §3: INBAND_NOTIFICATIONS without BACKEND_REQ and REPLY_ACK closes the connection.
            _rejectReason = "INBAND_NOTIFICATIONS without BACKEND_REQ and REPLY_ACK";
            return Outcome.Close;
        }

        if ((features & ~_offeredProtocol) != 0)
        {
            return Reject($"protocol features 0x{(ulong)features:x} contain bits never offered (offered 0x{(ulong)_offeredProtocol:x})");
        }

        _protocol = features;
        _protocolSet = true;
        return Outcome.Ok;
    }

    private Outcome HandleSetMemTable(ReadOnlySpan<byte> payload)
    {
        int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (count < 1 || count > VhostUserMemoryRegionInfo.MaxTableRegions)
        {
            return Reject($"nregions {count} is not 1..8");
        }

        var infos = new VhostUserMemoryRegionInfo[count];
        for (int i = 0; i < count; i++)
        {
            infos[i] = VhostUserMemoryRegionInfo.Read(payload.Slice(VhostUserMemoryRegionInfo.TableHeaderSize + (i * VhostUserMemoryRegionInfo.EncodedSize)));
            MemoryTableError error = VhostUserMemoryRegion.CheckFields(infos[i]);
            if (error != MemoryTableError.None)
            {
                return Reject($"region {i} ({infos[i]}): {error}");
            }

            for (int j = 0; j < i; j++)
            {
                if (VhostUserMemoryRegion.Overlaps(infos[i], infos[j]))
                {
                    return Reject($"regions {j} and {i} overlap");
                }
            }
        }

        var mapped = new List<VhostUserMemoryRegion>(count);
        for (int i = 0; i < count; i++)
        {
            MemoryTableError error = VhostUserMemoryRegion.TryMap(infos[i], _fds[i], out VhostUserMemoryRegion? region, out int errno);
            if (error != MemoryTableError.None || region is null)
            {
                foreach (VhostUserMemoryRegion done in mapped)
                {
                    done.Dispose();
                }

                return Reject($"region {i} ({infos[i]}): {error} (errno {errno})");
            }

            mapped.Add(region);
        }

        // The fds are closed after dispatch: the mappings do not need them.
        VhostUserMemoryTable old = _memory;
        ReplaceMemory(VhostUserMemoryTable.Create(mapped));
        old.DisposeRegions();
        Log.MemoryTable(_logger, count);
        return Outcome.Ok;
    }

    private Outcome HandleAddMemReg(ReadOnlySpan<byte> payload)
    {
        if (!Has(VhostUserProtocolFeatures.ConfigureMemSlots))
        {
            return Reject("CONFIGURE_MEM_SLOTS not negotiated");
        }

        VhostUserMemoryRegionInfo info = VhostUserMemoryRegionInfo.Read(payload.Slice(8));
        if (_memory.Regions.Count >= _options.MaxMemorySlots)
        {
            return Reject("all memory slots are in use");
        }

        MemoryTableError error = VhostUserMemoryRegion.CheckFields(info);
        if (error == MemoryTableError.None && _memory.OverlapsAny(info))
        {
            error = MemoryTableError.Overlap;
        }

        int errno = 0;
        VhostUserMemoryRegion? region = null;
        if (error == MemoryTableError.None)
        {
            error = VhostUserMemoryRegion.TryMap(info, _fds[0], out region, out errno);
        }

        if (error != MemoryTableError.None || region is null)
        {
            return Reject($"region ({info}): {error} (errno {errno})");
        }

        ReplaceMemory(_memory.With(region));
        return Outcome.Ok;
    }

    private Outcome HandleRemMemReg(ReadOnlySpan<byte> payload)
    {
        if (!Has(VhostUserProtocolFeatures.ConfigureMemSlots))
        {
            return Reject("CONFIGURE_MEM_SLOTS not negotiated");
        }

        // An fd "MAY" be attached; it is closed unused after dispatch (VHOST-USER.md §8.2).
        VhostUserMemoryRegionInfo info = VhostUserMemoryRegionInfo.Read(payload.Slice(8));
        VhostUserMemoryRegion? region = _memory.Find(info);
        if (region is null)
        {
            return Reject($"no region ({info})");
        }

        ReplaceMemory(_memory.Without(region));
        region.Dispose();
        return Outcome.Ok;
    }

    /// <summary>
    /// Installs a new memory table: every running queue stops first (so nothing uses the old
    /// mappings), the device gets the new memory, rings are re-translated and restarted. A ring
    /// whose range is no longer mapped stays stopped (VHOST-USER.md §8.1, §8.2). The caller unmaps
    /// the regions that left the table afterwards.
    /// </summary>
    private void ReplaceMemory(VhostUserMemoryTable table)
    {
        foreach (VringState ring in _rings)
        {
            StopQueue(ring);
        }

        _memory = table;
        if (_device.IsActive && table.Memory is not null && _activatedMemory is not null)
        {
            _device.Activate(table.Memory, _sink);
            _activatedMemory = table.Memory;
        }
        else if (table.Memory is null)
        {
            _activatedMemory = null;
        }

        foreach (VringState ring in _rings)
        {
            UpdateRing(ring);
        }
    }

    private bool TryGetRing(uint index, out VringState ring)
    {
        // LVU-6: every ring message checks index < queue count (unsigned).
        if (index < (uint)_rings.Length)
        {
            ring = _rings[index];
            return true;
        }

        ring = null!;
        return false;
    }

    private int MaxRingSize(int index) => Math.Min(_options.MaxQueueSize, _device.GetQueue(index).MaxSize);

    private Outcome HandleSetVringNum(VhostUserVringState state)
    {
        if (!TryGetRing(state.Index, out VringState ring))
        {
            return Reject($"ring {state.Index} does not exist");
        }

        // VHOST-USER.md §6.4: a power of two, 1..32768, at least 1024 accepted; on an invalid size
        // fail the ring (ack ≠ 0 or refuse to start it), never exit (VDG-13).
        uint num = state.Num;
        if (num == 0 || num > (uint)MaxRingSize(ring.Index) || (num & (num - 1)) != 0)
        {
            if (!ring.Ready)
            {
                ring.Num = 0;
            }

            _rejectReason = $"ring {ring.Index} size {num} is not a power of two in 1..{MaxRingSize(ring.Index)}";
            return Outcome.RejectKeepConnection;
        }

        if (ring.Ready && (int)num != ring.Num)
        {
            return Reject($"ring {ring.Index} size cannot change while it runs");
        }

        ring.Num = (int)num;
        return Outcome.Ok;
    }

    private Outcome HandleSetVringAddr(VhostUserVringAddress address)
    {
        if (!TryGetRing(address.Index, out VringState ring))
        {
            return Reject($"ring {address.Index} does not exist");
        }

        if (address.Flags != 0)
        {
            // VHOST_VRING_F_LOG needs LOG_SHMFD, which is not offered; other bits are undefined.
            return Reject($"ring {ring.Index} address flags 0x{address.Flags:x} not supported");
        }

        if (ring.Ready)
        {
            if (ring.HasAddress && ring.Address == address)
            {
                return Outcome.Ok;
            }

            return Reject($"ring {ring.Index} addresses cannot change while it runs (VHOST-USER.md §6.4)");
        }

        ring.Address = address;
        ring.HasAddress = true;
        if (ring.Num != 0 && _memory.Memory is not null && !TryTranslateRing(ring, out _, out _, out _, out string? reason))
        {
            // VU12: a range outside one region: the ring is refused now and never started.
            ring.HasAddress = false;
            _rejectReason = reason!;
            return Outcome.RejectKeepConnection;
        }

        return Outcome.Ok;
    }

    private Outcome HandleSetVringBase(VhostUserVringState state)
    {
        if (!TryGetRing(state.Index, out VringState ring))
        {
            return Reject($"ring {state.Index} does not exist");
        }

        // Split ring: bits 0–15 are the next avail index, bits 16–31 reserved (0).
        if (state.Num > ushort.MaxValue)
        {
            return Reject($"ring {ring.Index} base 0x{state.Num:x} sets reserved bits");
        }

        if (ring.Ready)
        {
            if (_device.GetQueue(ring.Index).NextAvailIndex == state.Num)
            {
                return Outcome.Ok;
            }

            return Reject($"ring {ring.Index} base cannot change while it runs");
        }

        ring.Base = (ushort)state.Num;
        ring.BaseDirty = true;
        return Outcome.Ok;
    }

    private Outcome HandleGetVringBase(FrontendRequest request, VhostUserVringState state)
    {
        if (!TryGetRing(state.Index, out VringState ring))
        {
            return Reject($"ring {state.Index} does not exist");
        }

        // VHOST-USER.md §6.3: stop the ring, and only then reply; after SetQueueReady(false) returns
        // the device writes nothing more to the ring (held eventq pairs stay held).
        StopQueue(ring);
        ring.Started = false;
        CloseKick(ring);
        ushort next = ring.Configured ? _device.GetQueue(ring.Index).NextAvailIndex : ring.Base;
        ring.Base = next;
        ring.BaseDirty = false;
        Log.RingState(_logger, ring.Index, $"stopped at {next}");
        Span<byte> reply = stackalloc byte[VhostUserVringState.Size];
        new VhostUserVringState(state.Index, next).Write(reply);
        return SendReply(request, reply) ? Outcome.Replied : Outcome.Close;
    }

    private Outcome HandleSetVringFd(FrontendRequest request, ulong value)
    {
        if ((value & ~(VhostUserMessageCodec.VringIndexMask | VhostUserMessageCodec.VringNoFdFlag)) != 0)
        {
            return Reject($"reserved bits set in 0x{value:x}");
        }

        if (!TryGetRing((uint)(value & VhostUserMessageCodec.VringIndexMask), out VringState ring))
        {
            return Reject($"ring {value & VhostUserMessageCodec.VringIndexMask} does not exist");
        }

        bool noFd = (value & VhostUserMessageCodec.VringNoFdFlag) != 0;
        int fd = noFd ? -1 : TakeFd(0);
        switch (request)
        {
            case FrontendRequest.SetVringCall:
            {
                // VHOST-USER.md §11: swap atomically (the sink signals under the same lock), then close the old fd.
                int old;
                lock (ring.SignalLock)
                {
                    old = ring.CallFd;
                    ring.CallFd = fd;
                }

                FileDescriptors.Close(old);
                return Outcome.Ok;
            }

            case FrontendRequest.SetVringErr:
            {
                int old;
                lock (ring.SignalLock)
                {
                    old = ring.ErrFd;
                    ring.ErrFd = fd;
                }

                FileDescriptors.Close(old);
                return Outcome.Ok;
            }

            default:
            {
                CloseKick(ring);
                if (fd >= 0)
                {
                    int errno = _epoll.Add(fd, ((ulong)ring.KickGeneration << 32) | (TokenKickBase + (uint)ring.Index));
                    if (errno != 0)
                    {
                        FileDescriptors.Close(fd);
                        return Reject($"ring {ring.Index} kick fd cannot be watched (errno {errno})");
                    }

                    ring.KickFd = fd;
                }

                ring.KickPolling = noFd;

                // VHOST-USER.md §6.1: the ring starts with its kick; scanning is idempotent, so the
                // ring is scanned right away (SET_VRING_KICK) — a kick written before this message
                // or before SET_VRING_ENABLE is never lost (VU7).
                ring.Started = true;
                UpdateRing(ring);
                if (ring.Ready)
                {
                    _device.NotifyQueue(ring.Index);
                }

                return Outcome.Ok;
            }
        }
    }

    private Outcome HandleSetVringEnable(VhostUserVringState state)
    {
        if (!TryGetRing(state.Index, out VringState ring))
        {
            return Reject($"ring {state.Index} does not exist");
        }

        // "SET_VRING_ENABLE is only valid once PROTOCOL_FEATURES is negotiated" (VHOST-USER.md §6.1).
        if (!_protocolSet && (_ackedFeatures & ProtocolFeaturesBit) == 0)
        {
            return Reject("SET_VRING_ENABLE before PROTOCOL_FEATURES was negotiated");
        }

        if (state.Num > 1)
        {
            return Reject($"enable value {state.Num} is not 0 or 1");
        }

        ring.Enabled = state.Num == 1;

        // Enabling a started ring scans its avail ring at once (SetQueueReady does): VDG-14, VU7.
        UpdateRing(ring);
        return Outcome.Ok;
    }

    private Outcome HandleSetBackendReqFd()
    {
        if (!Has(VhostUserProtocolFeatures.BackendReq))
        {
            return Reject("BACKEND_REQ not negotiated");
        }

        int fd = TakeFd(0);
        int old;
        lock (_backendLock)
        {
            old = _backendFd;
            _backendFd = fd;
        }

        FileDescriptors.Close(old);
        if (Volatile.Read(ref _pendingConfigChange) == 1)
        {
            TrySendConfigChange();
        }

        return Outcome.Ok;
    }

    private Outcome HandleGetConfig(FrontendRequest request, ReadOnlySpan<byte> payload)
    {
        if (!Has(VhostUserProtocolFeatures.Config))
        {
            return Reject("CONFIG not negotiated");
        }

        VhostUserConfigHeader header = VhostUserConfigHeader.Read(payload);

        // VHOST-USER.md §7 / VDG-5: bounds against the device's real config size (64-bit sum, no
        // wrap); on error a zero-length reply. Never read past the config.
        if (header.Size == 0 || (ulong)header.Offset + header.Size > (ulong)_device.ConfigSize)
        {
            _rejectReason = $"config range {header.Offset}+{header.Size} outside {_device.ConfigSize} bytes";
            LogRejected(request, _rejectReason);
            return SendReply(request, ReadOnlySpan<byte>.Empty) ? Outcome.Replied : Outcome.Close;
        }

        Span<byte> reply = stackalloc byte[VhostUserConfigHeader.EncodedSize + (int)header.Size];
        header.Write(reply);
        _device.ReadConfig(header.Offset, reply.Slice(VhostUserConfigHeader.EncodedSize));
        return SendReply(request, reply) ? Outcome.Replied : Outcome.Close;
    }

    private Outcome HandleSetConfig(ReadOnlySpan<byte> payload)
    {
        if (!Has(VhostUserProtocolFeatures.Config))
        {
            return Reject("CONFIG not negotiated");
        }

        VhostUserConfigHeader header = VhostUserConfigHeader.Read(payload);
        if (header.Size == 0 || (ulong)header.Offset + header.Size > (ulong)_device.ConfigSize)
        {
            return Reject($"config range {header.Offset}+{header.Size} outside {_device.ConfigSize} bytes");
        }

        // VHOST-USER.md §7: every config field of this device class is read-only. A guest write
        // (flags 0) is refused; a migration write (flags 1) is accepted only when it changes nothing.
        if (header.Flags != VhostUserConfigHeader.FlagMigration)
        {
            return Reject($"config write with flags {header.Flags} refused (read-only configuration)");
        }

        Span<byte> current = stackalloc byte[(int)header.Size];
        _device.ReadConfig(header.Offset, current);
        return current.SequenceEqual(payload.Slice(VhostUserConfigHeader.EncodedSize)) ? Outcome.Ok : Reject("migration config differs from the device config");
    }

    private Outcome HandleGetInflightFd(FrontendRequest request, VhostUserInflightInfo info)
    {
        if (!Has(VhostUserProtocolFeatures.InflightShmfd))
        {
            return Reject("INFLIGHT_SHMFD not negotiated");
        }

        if (info.NumQueues == 0 || info.NumQueues > _rings.Length || info.QueueSize == 0 || info.QueueSize > SplitQueue.MaxQueueSize)
        {
            return Reject($"inflight geometry {info.NumQueues} queue(s) × {info.QueueSize} invalid");
        }

        if (AnyRingReady())
        {
            return Reject("inflight region cannot change while a ring runs");
        }

        InflightRegion region = InflightRegion.CreateNew(info.NumQueues, info.QueueSize, out int fd);
        try
        {
            InstallInflight(region, recover: false);
            Span<byte> reply = stackalloc byte[VhostUserInflightInfo.EncodedSize];
            new VhostUserInflightInfo(region.TotalSize, 0, info.NumQueues, info.QueueSize).Write(reply);
            return SendReply(request, reply, fd) ? Outcome.Replied : Outcome.Close;
        }
        finally
        {
            // The front-end received its own copy of the fd; ours is not needed (the mapping stays).
            FileDescriptors.Close(fd);
        }
    }

    private Outcome HandleSetInflightFd(VhostUserInflightInfo info)
    {
        if (!Has(VhostUserProtocolFeatures.InflightShmfd))
        {
            return Reject("INFLIGHT_SHMFD not negotiated");
        }

        if (info.NumQueues == 0 || info.QueueSize == 0 || info.QueueSize > SplitQueue.MaxQueueSize)
        {
            return Reject($"inflight geometry {info.NumQueues} queue(s) × {info.QueueSize} invalid");
        }

        if (AnyRingReady())
        {
            return Reject("inflight region cannot change while a ring runs");
        }

        int errno = InflightRegion.TryOpen(_fds[0], info.MmapOffset, info.MmapSize, info.NumQueues, info.QueueSize, out InflightRegion? region);
        if (errno != 0 || region is null)
        {
            return Reject($"inflight region {info} cannot be mapped (errno {errno})");
        }

        InstallInflight(region, recover: true);
        return Outcome.Ok;
    }

    private void InstallInflight(InflightRegion region, bool recover)
    {
        for (int i = 0; i < _rings.Length; i++)
        {
            _device.GetQueue(i).Tracker = null;
            _trackers[i] = i < region.NumQueues ? new InflightQueueTracker(region, i) : null;
            _rings[i].RecoverInflight = recover && _trackers[i] is not null;
        }

        _inflight?.Dispose();
        _inflight = region;
    }

    private Outcome HandleSetStatus(ulong value)
    {
        if (!Has(VhostUserProtocolFeatures.Status))
        {
            return Reject("STATUS not negotiated");
        }

        if (value > byte.MaxValue)
        {
            return Reject($"status 0x{value:x} is not a byte");
        }

        byte status = (byte)value;
        if (status == 0)
        {
            // VHOST-USER.md §9: a status write of 0 is a device reset.
            ResetDevice();
            return Outcome.Ok;
        }

        const byte FeaturesOk = (byte)VirtioDeviceStatus.FeaturesOk;
        if ((status & FeaturesOk) != 0 && (_status & FeaturesOk) == 0)
        {
            // VIRTIO 1.3 §3.1.1 "Driver Requirements: Device Initialization": FEATURES_OK stays clear
            // when the device does not accept the features.
            ulong deviceFeatures = _ackedFeatures & ~ProtocolFeaturesBit;
            if (!_featuresSet || (_device.DriverFeatures != deviceFeatures && !_device.TryAcceptFeatures(deviceFeatures)))
            {
                status &= unchecked((byte)~FeaturesOk);
            }
        }

        _status = status;
        return Outcome.Ok;
    }

    /// <summary>
    /// RESET_DEVICE / SET_STATUS(0): every ring stops and is disabled and forgets its
    /// configuration; the device resets (held buffers forgotten, not completed). Memory table,
    /// call/err fds, the back-end channel and the connection are kept (VHOST-USER.md §9).
    /// </summary>
    private void ResetDevice()
    {
        foreach (VringState ring in _rings)
        {
            StopQueue(ring);
            CloseKick(ring);
            ring.ResetConfiguration();
        }

        _device.Reset();
        _activatedMemory = null;
        _status = 0;
        if (_inflight is not null)
        {
            // The tracked heads belong to the old device life: start the tracking afresh.
            InflightRegion region = _inflight;
            for (int i = 0; i < region.NumQueues; i++)
            {
                region.GetQueueSpan(i).Slice(InflightRegion.LastBatchHeadOffset).Clear();
                BinaryPrimitives.WriteUInt16LittleEndian(region.GetQueueSpan(i).Slice(InflightRegion.VersionOffset), InflightRegion.CurrentVersion);
                BinaryPrimitives.WriteUInt16LittleEndian(region.GetQueueSpan(i).Slice(InflightRegion.DescNumOffset), (ushort)region.QueueSize);
            }

            InstallInflightTrackersOnly(region);
        }
    }

    private void InstallInflightTrackersOnly(InflightRegion region)
    {
        for (int i = 0; i < _rings.Length; i++)
        {
            _device.GetQueue(i).Tracker = null;
            _trackers[i] = i < region.NumQueues ? new InflightQueueTracker(region, i) : null;
        }
    }

    private bool AnyRingReady()
    {
        foreach (VringState ring in _rings)
        {
            if (ring.Ready)
            {
                return true;
            }
        }

        return false;
    }
}
