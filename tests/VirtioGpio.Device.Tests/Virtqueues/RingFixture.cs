// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Virtqueues;

/// <summary>
/// A minimal driver side for the engine's own tests: lays out a split ring with raw little-endian
/// bytes in one array-backed region, so every field (including malformed ones) is under the test's control.
/// </summary>
internal sealed class RingFixture
{
    public const ulong DescriptorTable = 0x0;

    public RingFixture(int size, int dataBytes = 1 << 20, IGuestMemory? memoryOverride = null)
    {
        Size = size;
        AvailRing = AlignUp(SplitQueue.GetDescriptorTableSize(size), 0x1000);
        UsedRing = AlignUp(AvailRing + SplitQueue.GetAvailRingSize(size), 0x1000);
        DataBase = AlignUp(UsedRing + SplitQueue.GetUsedRingSize(size), 0x1000);
        Ram = new byte[checked((int)DataBase + dataBytes)];
        Regions = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(0), Ram));
        Memory = memoryOverride ?? Regions;
        _nextData = DataBase;
    }

    private ulong _nextData;
    private int _nextDescriptor;

    public int Size { get; }

    public ulong AvailRing { get; }

    public ulong UsedRing { get; }

    public ulong DataBase { get; }

    public byte[] Ram { get; }

    public RegionGuestMemory Regions { get; }

    public IGuestMemory Memory { get; set; }

    public ushort AvailIdx
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(Ram.AsSpan((int)AvailRing + 2));
        set => BinaryPrimitives.WriteUInt16LittleEndian(Ram.AsSpan((int)AvailRing + 2), value);
    }

    public ushort AvailFlags
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(Ram.AsSpan((int)AvailRing));
        set => BinaryPrimitives.WriteUInt16LittleEndian(Ram.AsSpan((int)AvailRing), value);
    }

    public ushort UsedEvent
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(Ram.AsSpan((int)AvailRing + 4 + (2 * Size)));
        set => BinaryPrimitives.WriteUInt16LittleEndian(Ram.AsSpan((int)AvailRing + 4 + (2 * Size)), value);
    }

    public ushort UsedIdx
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(Ram.AsSpan((int)UsedRing + 2));
        set => BinaryPrimitives.WriteUInt16LittleEndian(Ram.AsSpan((int)UsedRing + 2), value);
    }

    public ushort UsedFlags => BinaryPrimitives.ReadUInt16LittleEndian(Ram.AsSpan((int)UsedRing));

    public ushort AvailEvent => BinaryPrimitives.ReadUInt16LittleEndian(Ram.AsSpan((int)UsedRing + 4 + (8 * Size)));

    public static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);

    public SplitQueue CreateQueue(bool indirect = false, bool eventIdx = false, bool activate = true, int? maxSize = null)
    {
        var queue = new SplitQueue(maxSize ?? Size) { Memory = Memory, IndirectDescriptorsEnabled = indirect, EventIdxEnabled = eventIdx };
        Assert.True(queue.TrySetSize(Size));
        Assert.True(queue.TrySetAddresses(new GuestAddress(DescriptorTable), new GuestAddress(AvailRing), new GuestAddress(UsedRing)));
        if (activate)
        {
            Assert.Equal(VirtqueueError.None, queue.TryActivate());
        }

        return queue;
    }

    /// <summary>Allocates a data buffer (16-byte aligned) in the data area.</summary>
    public ulong Alloc(int length)
    {
        ulong address = _nextData;
        _nextData = AlignUp(_nextData + (ulong)Math.Max(length, 1), 16);
        Assert.True(_nextData <= (ulong)Ram.Length, "fixture data area exhausted");
        return address;
    }

    public ulong AllocWith(ReadOnlySpan<byte> content)
    {
        ulong address = Alloc(content.Length);
        content.CopyTo(Ram.AsSpan((int)address));
        return address;
    }

    public Span<byte> Bytes(ulong address, int length) => Ram.AsSpan((int)address, length);

    public static void WriteDescriptor(Span<byte> ram, ulong tableAddress, int index, ulong address, uint length, DescriptorFlags flags, ushort next)
    {
        Span<byte> d = ram.Slice(checked((int)tableAddress + (index * 16)), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(8), length);
        BinaryPrimitives.WriteUInt16LittleEndian(d.Slice(12), (ushort)flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d.Slice(14), next);
    }

    public void WriteDescriptor(int index, ulong address, uint length, DescriptorFlags flags, ushort next = 0)
        => WriteDescriptor(Ram, DescriptorTable, index, address, length, flags, next);

    /// <summary>Writes a chain of buffers into consecutive free descriptors; returns the head.</summary>
    public ushort AddChain(params (ulong Address, uint Length, bool Writable)[] buffers)
    {
        int head = _nextDescriptor;
        for (int i = 0; i < buffers.Length; i++)
        {
            int index = (_nextDescriptor + i) % Size;
            DescriptorFlags flags = (buffers[i].Writable ? DescriptorFlags.Write : DescriptorFlags.None) | (i + 1 < buffers.Length ? DescriptorFlags.Next : DescriptorFlags.None);
            WriteDescriptor(index, buffers[i].Address, buffers[i].Length, flags, (ushort)((index + 1) % Size));
        }

        _nextDescriptor = (_nextDescriptor + buffers.Length) % Size;
        return (ushort)head;
    }

    /// <summary>Writes an indirect table in the data area and returns its address.</summary>
    public ulong AddIndirectTable(params (ulong Address, uint Length, DescriptorFlags Flags, ushort Next)[] entries)
    {
        ulong table = Alloc(entries.Length * 16);
        for (int i = 0; i < entries.Length; i++)
        {
            WriteDescriptor(Ram, table, i, entries[i].Address, entries[i].Length, entries[i].Flags, entries[i].Next);
        }

        return table;
    }

    /// <summary>Publishes heads in the avail ring and bumps avail.idx (driver side of VIRTIO 1.3 §2.7.13).</summary>
    public void Publish(params ushort[] heads)
    {
        ushort idx = AvailIdx;
        foreach (ushort head in heads)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(Ram.AsSpan((int)AvailRing + 4 + (2 * (idx % Size))), head);
            idx = unchecked((ushort)(idx + 1)); // wraps by design: 16-bit ring index
        }

        Volatile.Write(ref Ram[0], Ram[0]); // keep the ordering intent explicit in tests (single-threaded anyway)
        AvailIdx = idx;
    }

    public (uint Id, uint Length) UsedElement(int ringIndex)
    {
        int offset = (int)UsedRing + 4 + (8 * (ringIndex % Size));
        return (BinaryPrimitives.ReadUInt32LittleEndian(Ram.AsSpan(offset)), BinaryPrimitives.ReadUInt32LittleEndian(Ram.AsSpan(offset + 4)));
    }

    /// <summary>A 2-descriptor GPIO-style request: 8 readable bytes, 2 writable bytes. Returns (head, request, response).</summary>
    public (ushort Head, ulong Request, ulong Response) AddRequest(byte seed = 1)
    {
        ulong request = AllocWith(new byte[] { seed, 0, 2, 0, 3, 0, 0, 0 });
        ulong response = Alloc(2);
        ushort head = AddChain((request, 8, false), (response, 2, true));
        return (head, request, response);
    }
}
