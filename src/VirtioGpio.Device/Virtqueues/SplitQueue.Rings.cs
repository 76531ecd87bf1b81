// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <content>Ring element accessors: a fast path over ring parts resolved at activation, and the generic <see cref="IGuestMemory"/> path.</content>
public sealed partial class SplitQueue
{
    // All offsets below stay inside the ring parts checked at TryActivate: slots are masked with
    // _mask (< size) and descriptor indices are checked against the size before any access.

    /// <summary>Loads <c>avail.idx</c> with acquire semantics (VIRTIO 1.3 §2.7.13.3 "Updating idx": the driver's barrier pairs with this load).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryLoadAvailIdx(out ushort value)
    {
        if (_availHost.IsValid)
        {
            // SAFETY: the avail ring was checked at activation; its host location is 2-byte aligned (ResolveRingHost).
            value = Volatile.Read(ref Unsafe.As<byte, ushort>(ref _availHost.At(AvailIdxOffset)));
            return true;
        }

        return _memory!.TryLoadAcquireUInt16(new GuestAddress(_availRing.Value + AvailIdxOffset), out value) == GuestMemoryError.None;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReadAvailEntry(int slot, out ushort head)
    {
        ulong relative = AvailEntriesOffset + ((ulong)(uint)slot * AvailEntrySize);
        if (_availHost.IsValid)
        {
            // SAFETY: slot < size, so the entry lies in the avail ring checked at activation.
            head = Unsafe.ReadUnaligned<ushort>(ref _availHost.At(relative));
            return true;
        }

        return _memory!.TryReadUInt16LittleEndian(new GuestAddress(_availRing.Value + relative), out head) == GuestMemoryError.None;
    }

    /// <summary>Reads <c>used_event</c> (the avail ring's trailing field, VIRTIO 1.3 §2.7.6 "The Virtqueue Available Ring").</summary>
    private bool TryReadUsedEvent(out ushort value)
    {
        ulong relative = AvailEntriesOffset + ((ulong)_size * AvailEntrySize);
        if (_availHost.IsValid)
        {
            value = Volatile.Read(ref Unsafe.As<byte, ushort>(ref _availHost.At(relative)));
            return true;
        }

        return _memory!.TryReadUInt16LittleEndian(new GuestAddress(_availRing.Value + relative), out value) == GuestMemoryError.None;
    }

    private bool TryReadAvailFlags(out ushort value)
    {
        if (_availHost.IsValid)
        {
            value = Volatile.Read(ref Unsafe.As<byte, ushort>(ref _availHost.At(AvailFlagsOffset)));
            return true;
        }

        return _memory!.TryReadUInt16LittleEndian(new GuestAddress(_availRing.Value + AvailFlagsOffset), out value) == GuestMemoryError.None;
    }

    /// <summary>Reads descriptor <paramref name="index"/> (&lt; size) of the main table once into a local copy (VQ-6: copy, then validate).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReadTableDescriptor(int index, out Descriptor descriptor)
    {
        ulong relative = (ulong)(uint)index * Descriptor.Size;
        if (_descHost.IsValid)
        {
            // SAFETY: index < size, so the 16 bytes lie in the table checked at activation.
            descriptor = Unsafe.ReadUnaligned<Descriptor>(ref _descHost.At(relative));
            return true;
        }

        return TryReadDescriptorGeneric(_memory!, new GuestAddress(_descriptorTable.Value + relative), out descriptor);
    }

    /// <summary>Reads one 16-byte descriptor anywhere in guest memory (stitching across adjacent regions).</summary>
    private static bool TryReadDescriptorGeneric(IGuestMemory memory, GuestAddress address, out Descriptor descriptor)
    {
        GuestMemoryError error = memory.TryGetSpan(address, Descriptor.Size, GuestMemoryAccess.Read, out Span<byte> span);
        if (error == GuestMemoryError.None)
        {
            descriptor = Decode(span);
            return true;
        }

        if (error == GuestMemoryError.CrossesRegionBoundary)
        {
            Span<byte> copy = stackalloc byte[Descriptor.Size];
            if (memory.TryRead(address, copy) == GuestMemoryError.None)
            {
                descriptor = Decode(copy);
                return true;
            }
        }

        descriptor = default;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Descriptor Decode(ReadOnlySpan<byte> source)
    {
        // VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table": le64 addr; le32 len; le16 flags; le16 next.
        source = source.Slice(0, Descriptor.Size);
        return new Descriptor(
            new GuestAddress(BinaryPrimitives.ReadUInt64LittleEndian(source)),
            BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(8)),
            (DescriptorFlags)BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(12)),
            BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(14)));
    }

    /// <summary>Writes used element <paramref name="slot"/> (VIRTIO 1.3 §2.7.8 "The Virtqueue Used Ring": le32 id; le32 len).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryWriteUsedElement(int slot, uint id, uint length)
    {
        ulong relative = UsedEntriesOffset + ((ulong)(uint)slot * UsedEntrySize);
        if (_usedHost.IsValid)
        {
            // SAFETY: slot < size, so the 8 bytes lie in the used ring checked at activation. One store of
            // le32 id | le32 len << 32 (the host is little-endian whenever the ring hosts are resolved).
            Unsafe.WriteUnaligned(ref _usedHost.At(relative), id | ((ulong)length << 32));
            return true;
        }

        return TryWriteUsedElementGeneric(relative, id, length);
    }

    // Out of line: a method with stackalloc is never inlined, and TryWriteUsedElement must be.
    private bool TryWriteUsedElementGeneric(ulong relative, uint id, uint length)
    {
        Span<byte> buffer = stackalloc byte[UsedEntrySize];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, id);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.Slice(4), length);
        return _memory!.TryWrite(new GuestAddress(_usedRing.Value + relative), buffer) == GuestMemoryError.None;
    }

    /// <summary>Publishes <c>used.idx</c> with release semantics (VIRTIO 1.3 §2.7.8.2 "Device Requirements: The Virtqueue Used Ring": len before idx).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryStoreUsedIdx(ushort value)
    {
        if (_usedHost.IsValid)
        {
            // SAFETY: inside the used ring checked at activation, 2-byte aligned on the host (ResolveRingHost).
            Volatile.Write(ref Unsafe.As<byte, ushort>(ref _usedHost.At(UsedIdxOffset)), value);
            return true;
        }

        return _memory!.TryStoreReleaseUInt16(new GuestAddress(_usedRing.Value + UsedIdxOffset), value) == GuestMemoryError.None;
    }

    private bool TryStoreUsedFlags(ushort value)
    {
        if (_usedHost.IsValid)
        {
            Volatile.Write(ref Unsafe.As<byte, ushort>(ref _usedHost.At(UsedFlagsOffset)), value);
            return true;
        }

        return _memory!.TryStoreReleaseUInt16(new GuestAddress(_usedRing.Value + UsedFlagsOffset), value) == GuestMemoryError.None;
    }

    /// <summary>Writes <c>avail_event</c> (the used ring's trailing field, VIRTIO 1.3 §2.7.10 "Available Buffer Notification Suppression").</summary>
    private bool TryStoreAvailEvent(ushort value)
    {
        ulong relative = UsedEntriesOffset + ((ulong)_size * UsedEntrySize);
        if (_usedHost.IsValid)
        {
            Volatile.Write(ref Unsafe.As<byte, ushort>(ref _usedHost.At(relative)), value);
            return true;
        }

        return _memory!.TryStoreReleaseUInt16(new GuestAddress(_usedRing.Value + relative), value) == GuestMemoryError.None;
    }

    /// <summary>
    /// Whole-range check of one buffer with the access its flags imply (GV9 / VM-1; VIRTIO 1.3 §2.7.5.1
    /// "Device Requirements: The Virtqueue Descriptor Table"). The fast test is against the region that
    /// held the previous buffers (<see cref="_bufferStart"/>..); <paramref name="resolved"/> stays true
    /// only while every buffer of the chain lies in that one region, so the reader and writer can reach
    /// them through <see cref="_bufferHost"/> without another lookup.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private GuestMemoryError CheckBuffer(ulong address, uint length, GuestMemoryAccess access, bool first, ref bool resolved)
    {
        ulong offset = unchecked(address - _bufferStart); // wraps by design: huge when below the region
        if (offset < _bufferLength && length <= _bufferLength - offset && (_bufferAccess & access) == access)
        {
            return GuestMemoryError.None;
        }

        return CheckBufferSlow(address, length, access, first, ref resolved);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private GuestMemoryError CheckBufferSlow(ulong address, uint length, GuestMemoryAccess access, bool first, ref bool resolved)
    {
        RegionGuestMemory? regions = _regionMemory;
        GuestMemoryError error = regions is not null
            ? regions.CheckRange(new GuestAddress(address), length, access)
            : GuestRangeValidator.Check(_memory!, new GuestAddress(address), length, access);
        if (error != GuestMemoryError.None || length == 0)
        {
            return error; // a zero-length buffer is never accessed: it leaves the chain resolved
        }

        // Valid, but outside the cached region: cache the region that holds it when there is one
        // (it serves the next chains), and keep this chain resolved only if it is its first buffer.
        if (regions is not null
            && BitConverter.IsLittleEndian
            && regions.TryResolve(new GuestAddress(address), length, access, out GuestMemoryRegion? region, out _)
            && region.TryGetHostBase(out HostBase host))
        {
            _bufferStart = region.Start.Value;
            _bufferLength = region.Length;
            _bufferAccess = region.Access;
            _bufferHost = host;
            resolved &= first;
        }
        else
        {
            resolved = false; // stitched across regions, or memory without a host base: the general copy path
        }

        return GuestMemoryError.None;
    }

    /// <summary>Forgets the cached buffer region (memory or activation changed).</summary>
    private void ClearBufferCache()
    {
        _bufferStart = 0;
        _bufferLength = 0;
        _bufferAccess = GuestMemoryAccess.None;
        _bufferHost = default;
    }

    /// <summary>
    /// The host base of a ring part: valid only for region memory on a little-endian host, a part in one
    /// region with the access needed, and a host location that is 2-byte aligned (the 16-bit index
    /// accesses must be single atomic accesses, VIRTIO 1.3 §2.7.13 "Supplying Buffers to The Device").
    /// </summary>
    private unsafe HostBase ResolveRingHost(GuestAddress start, ulong length, GuestMemoryAccess access)
    {
        RegionGuestMemory? regions = _regionMemory;
        if (regions is null
            || !BitConverter.IsLittleEndian
            || Unsafe.SizeOf<Descriptor>() != Descriptor.Size
            || !regions.TryResolve(start, length, access, out GuestMemoryRegion? region, out _)
            || !region.TryGetHostBase(out HostBase host))
        {
            return default;
        }

        HostBase ring = host.Offset(start.Value);

        // SAFETY: only the numeric address is inspected; the GC keeps array data pointer-aligned when it moves it.
        return ((nuint)Unsafe.AsPointer(ref ring.At(0)) & 1) == 0 ? ring : default;
    }
}
