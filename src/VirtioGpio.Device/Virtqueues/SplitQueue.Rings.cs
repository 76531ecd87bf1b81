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
        GuestMemoryRegion? region = _availView.Region;
        if (region is not null)
        {
            value = HostAtomics.LoadAcquireUInt16LittleEndian(_availView.Slice(region, AvailIdxOffset, sizeof(ushort)));
            return true;
        }

        return _memory!.TryLoadAcquireUInt16(new GuestAddress(_availRing.Value + AvailIdxOffset), out value) == GuestMemoryError.None;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReadAvailEntry(int slot, out ushort head)
    {
        ulong relative = AvailEntriesOffset + ((ulong)(uint)slot * AvailEntrySize);
        GuestMemoryRegion? region = _availView.Region;
        if (region is not null)
        {
            head = BinaryPrimitives.ReadUInt16LittleEndian(_availView.Slice(region, relative, sizeof(ushort)));
            return true;
        }

        return _memory!.TryReadUInt16LittleEndian(new GuestAddress(_availRing.Value + relative), out head) == GuestMemoryError.None;
    }

    /// <summary>Reads <c>used_event</c> (the avail ring's trailing field, VIRTIO 1.3 §2.7.6 "The Virtqueue Available Ring").</summary>
    private bool TryReadUsedEvent(out ushort value)
    {
        ulong relative = AvailEntriesOffset + ((ulong)_size * AvailEntrySize);
        GuestMemoryRegion? region = _availView.Region;
        if (region is not null)
        {
            value = BinaryPrimitives.ReadUInt16LittleEndian(_availView.Slice(region, relative, sizeof(ushort)));
            return true;
        }

        return _memory!.TryReadUInt16LittleEndian(new GuestAddress(_availRing.Value + relative), out value) == GuestMemoryError.None;
    }

    private bool TryReadAvailFlags(out ushort value)
    {
        GuestMemoryRegion? region = _availView.Region;
        if (region is not null)
        {
            value = BinaryPrimitives.ReadUInt16LittleEndian(_availView.Slice(region, AvailFlagsOffset, sizeof(ushort)));
            return true;
        }

        return _memory!.TryReadUInt16LittleEndian(new GuestAddress(_availRing.Value + AvailFlagsOffset), out value) == GuestMemoryError.None;
    }

    /// <summary>Reads descriptor <paramref name="index"/> (&lt; size) of the main table once into a local copy (VQ-6: copy, then validate).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReadTableDescriptor(int index, out Descriptor descriptor)
    {
        ulong relative = (ulong)(uint)index * Descriptor.Size;
        GuestMemoryRegion? region = _descView.Region;
        if (region is not null)
        {
            descriptor = Decode(_descView.Slice(region, relative, Descriptor.Size));
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
        GuestMemoryRegion? region = _usedView.Region;
        if (region is not null)
        {
            Span<byte> element = _usedView.Slice(region, relative, UsedEntrySize);
            BinaryPrimitives.WriteUInt32LittleEndian(element, id);
            BinaryPrimitives.WriteUInt32LittleEndian(element.Slice(4), length);
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
        GuestMemoryRegion? region = _usedView.Region;
        if (region is not null)
        {
            HostAtomics.StoreReleaseUInt16LittleEndian(_usedView.Slice(region, UsedIdxOffset, sizeof(ushort)), value);
            return true;
        }

        return _memory!.TryStoreReleaseUInt16(new GuestAddress(_usedRing.Value + UsedIdxOffset), value) == GuestMemoryError.None;
    }

    private bool TryStoreUsedFlags(ushort value)
    {
        GuestMemoryRegion? region = _usedView.Region;
        if (region is not null)
        {
            HostAtomics.StoreReleaseUInt16LittleEndian(_usedView.Slice(region, UsedFlagsOffset, sizeof(ushort)), value);
            return true;
        }

        return _memory!.TryStoreReleaseUInt16(new GuestAddress(_usedRing.Value + UsedFlagsOffset), value) == GuestMemoryError.None;
    }

    /// <summary>Writes <c>avail_event</c> (the used ring's trailing field, VIRTIO 1.3 §2.7.10 "Available Buffer Notification Suppression").</summary>
    private bool TryStoreAvailEvent(ushort value)
    {
        ulong relative = UsedEntriesOffset + ((ulong)_size * UsedEntrySize);
        GuestMemoryRegion? region = _usedView.Region;
        if (region is not null)
        {
            HostAtomics.StoreReleaseUInt16LittleEndian(_usedView.Slice(region, relative, sizeof(ushort)), value);
            return true;
        }

        return _memory!.TryStoreReleaseUInt16(new GuestAddress(_usedRing.Value + relative), value) == GuestMemoryError.None;
    }

    /// <summary>Whole-range check of one buffer with the access its flags imply (GV9).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private GuestMemoryError CheckBuffer(GuestAddress address, uint length, GuestMemoryAccess access)
    {
        RegionGuestMemory? regions = _regionMemory;
        return regions is not null
            ? regions.CheckRange(address, length, access)
            : GuestRangeValidator.Check(_memory!, address, length, access);
    }
}
