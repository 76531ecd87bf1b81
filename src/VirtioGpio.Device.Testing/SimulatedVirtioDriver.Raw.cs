// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Testing;

/// <content>Raw access: write any (malformed) structure a test asks for, and read the rings back byte for byte.</content>
public sealed partial class SimulatedVirtioDriver
{
    /// <summary>Writes descriptor <paramref name="index"/> of the ring's table verbatim (any flags, any <c>next</c>, loops, out-of-range links, INDIRECT with NEXT, …). Bypasses the free list; reserve the index with <see cref="AllocateDescriptorIndices(int)"/> when mixing with <see cref="AddChain(ReadOnlySpan{DriverBuffer}, ChainShape)"/>.</summary>
    /// <param name="index">0 .. N - 1.</param>
    /// <param name="descriptor">The descriptor to encode.</param>
    public void WriteDescriptor(int index, Descriptor descriptor)
    {
        ValidateIndex(index);
        WriteDescriptorAt(Layout.DescriptorAddress(index), descriptor);
    }

    /// <summary>Writes descriptor <paramref name="index"/> from raw field values.</summary>
    /// <param name="index">0 .. N - 1.</param>
    /// <param name="address">The <c>addr</c> field.</param>
    /// <param name="length">The <c>len</c> field.</param>
    /// <param name="flags">The <c>flags</c> field (undefined bits allowed).</param>
    /// <param name="next">The <c>next</c> field.</param>
    public void WriteDescriptor(int index, ulong address, uint length, DescriptorFlags flags, ushort next) =>
        WriteDescriptor(index, new Descriptor(new GuestAddress(address), length, flags, next));

    /// <summary>Writes a 16-byte descriptor at any guest address (an entry of a hand-made indirect table, or a deliberately stray write).</summary>
    /// <param name="address">Where the entry goes.</param>
    /// <param name="descriptor">The descriptor.</param>
    public void WriteDescriptorAt(GuestAddress address, Descriptor descriptor)
    {
        Span<byte> raw = stackalloc byte[Descriptor.Size];
        descriptor.TryWrite(raw);
        WriteOrThrow(address, raw);
    }

    /// <summary>Reads descriptor <paramref name="index"/> of the ring's table as it is in memory.</summary>
    /// <param name="index">0 .. N - 1.</param>
    /// <returns>The decoded descriptor.</returns>
    public Descriptor ReadDescriptor(int index)
    {
        ValidateIndex(index);
        return ReadDescriptorAt(Layout.DescriptorAddress(index));
    }

    /// <summary>Reads a 16-byte descriptor at any guest address (for example an indirect table entry).</summary>
    /// <param name="address">Where the entry is.</param>
    /// <returns>The decoded descriptor.</returns>
    public Descriptor ReadDescriptorAt(GuestAddress address)
    {
        Span<byte> raw = stackalloc byte[Descriptor.Size];
        ReadOrThrow(address, raw);
        Descriptor.TryRead(raw, out Descriptor descriptor);
        return descriptor;
    }

    /// <summary>Allocates an indirect table from the buffer area and writes <paramref name="entries"/> verbatim (nested INDIRECT, bad <c>next</c>, loops, …). Free it with <see cref="FreeBuffer(GuestRange)"/>.</summary>
    /// <param name="entries">The table entries.</param>
    /// <returns>The table's range (its <see cref="GuestRange.Length"/> is 16 × entries; a test may still put any <c>len</c> in the pointing descriptor).</returns>
    public GuestRange WriteIndirectTable(ReadOnlySpan<Descriptor> entries)
    {
        GuestRange block = Allocator.Allocate((ulong)entries.Length * Descriptor.Size);
        for (int i = 0; i < entries.Length; i++)
        {
            WriteDescriptorAt(new GuestAddress(block.Start.Value + ((ulong)i * Descriptor.Size)), entries[i]);
        }

        return block;
    }

    /// <summary>Allocates a buffer from the buffer area and copies <paramref name="data"/> into it (not freed automatically).</summary>
    /// <param name="data">Initial contents.</param>
    /// <returns>The buffer's range.</returns>
    public GuestRange AllocateBuffer(ReadOnlySpan<byte> data)
    {
        GuestRange block = Allocator.Allocate((ulong)data.Length);
        WriteOrThrow(block.Start, data);
        return block;
    }

    /// <summary>Allocates a buffer filled with <paramref name="fill"/> (not freed automatically).</summary>
    /// <param name="length">Bytes.</param>
    /// <param name="fill">Initial value of every byte.</param>
    /// <returns>The buffer's range.</returns>
    public GuestRange AllocateBuffer(int length, byte fill = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        GuestRange block = Allocator.Allocate((ulong)length);
        FillOrThrow(block.Start, length, fill);
        return block;
    }

    /// <summary>Returns a buffer from <see cref="AllocateBuffer(int, byte)"/> or <see cref="WriteIndirectTable"/>.</summary>
    /// <param name="block">The range as returned.</param>
    public void FreeBuffer(GuestRange block) => Allocator.Free(block);

    /// <summary>Takes descriptor indices off the free list so raw descriptors do not collide with chains the driver builds. They stay reserved until <see cref="FreeDescriptorIndices"/>.</summary>
    /// <param name="count">How many.</param>
    /// <returns>The indices in free-list order.</returns>
    /// <exception cref="InvalidOperationException">Not enough free descriptors.</exception>
    public ushort[] AllocateDescriptorIndices(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > _freeCount)
        {
            throw new InvalidOperationException($"Only {_freeCount} descriptors are free.");
        }

        var indices = new ushort[count];
        for (int i = 0; i < count; i++)
        {
            indices[i] = (ushort)_freeHead;
            _freeHead = _freeNext[_freeHead];
        }

        _freeCount -= count;
        return indices;
    }

    /// <summary>Returns indices from <see cref="AllocateDescriptorIndices(int)"/> to the free list.</summary>
    /// <param name="indices">The indices.</param>
    public void FreeDescriptorIndices(ReadOnlySpan<ushort> indices)
    {
        foreach (ushort index in indices)
        {
            ValidateIndex(index);
            _freeNext[index] = (ushort)_freeHead;
            _freeHead = index;
            _freeCount++;
        }
    }

    /// <summary>Writes <c>avail.ring[slot] = head</c> verbatim (any head, even ≥ N). Does not change the avail index.</summary>
    /// <param name="slot">Ring slot 0 .. N - 1.</param>
    /// <param name="head">The value to store.</param>
    public void WriteAvailEntry(int slot, ushort head)
    {
        ValidateIndex(slot);
        Span<byte> raw = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(raw, head);
        WriteOrThrow(Layout.AvailEntryAddress(slot), raw);
    }

    /// <summary>Stages any head value in the next avail slot (as <see cref="AddChain(ReadOnlySpan{DriverBuffer}, ChainShape)"/> does, without building or tracking a chain); <see cref="Publish"/> makes it visible. Use it for hand-written descriptors, repeated heads and heads ≥ N.</summary>
    /// <param name="head">The head value.</param>
    public void StageAvailEntry(ushort head)
    {
        WriteAvailEntry(unchecked((ushort)(_availIndex + _staged)) % QueueSize, head);
        _staged++;
    }

    /// <summary>Stores <c>avail.idx</c> verbatim with a release store (for example 2·N ahead, to trip the device's avail-index check) and adopts it as the published index; staged heads are dropped.</summary>
    /// <param name="value">The value.</param>
    public void WriteAvailIndex(ushort value)
    {
        StoreOrThrow(Layout.AvailIndexAddress, value);
        _availIndex = value;
        _staged = 0;
    }

    /// <summary>Reads <c>avail.idx</c> from memory.</summary>
    /// <returns>The value.</returns>
    public ushort ReadAvailIndex() => LoadOrThrow(Layout.AvailIndexAddress);

    /// <summary>Reads <c>avail.flags</c> from memory.</summary>
    /// <returns>The value.</returns>
    public ushort ReadAvailFlags() => LoadOrThrow(Layout.AvailFlagsAddress);

    /// <summary>Reads <c>avail.ring[slot]</c> from memory.</summary>
    /// <param name="slot">Ring slot 0 .. N - 1.</param>
    /// <returns>The value.</returns>
    public ushort ReadAvailEntry(int slot)
    {
        ValidateIndex(slot);
        return LoadOrThrow(Layout.AvailEntryAddress(slot));
    }

    /// <summary>Reads <c>used_event</c> from memory.</summary>
    /// <returns>The value.</returns>
    public ushort ReadUsedEvent() => LoadOrThrow(Layout.UsedEventAddress);

    /// <summary>Loads <c>used.idx</c> with acquire semantics.</summary>
    /// <returns>The value the device published.</returns>
    public ushort ReadUsedIndex() => LoadOrThrow(Layout.UsedIndexAddress);

    /// <summary>Reads <c>used.flags</c> (VRING_USED_F_NO_NOTIFY = 1: the device does not want kicks).</summary>
    /// <returns>The value.</returns>
    public ushort ReadUsedFlags() => LoadOrThrow(Layout.UsedFlagsAddress);

    /// <summary>Reads <c>avail_event</c> (with EVENT_IDX: "kick me when avail.idx passes this").</summary>
    /// <returns>The value.</returns>
    public ushort ReadAvailEvent() => LoadOrThrow(Layout.AvailEventAddress);

    /// <summary>Reads <c>used.ring[slot]</c> without consuming it.</summary>
    /// <param name="slot">Ring slot 0 .. N - 1.</param>
    /// <returns>The element.</returns>
    public UsedElement ReadUsedElement(int slot)
    {
        ValidateIndex(slot);
        Span<byte> raw = stackalloc byte[8];
        ReadOrThrow(Layout.UsedEntryAddress(slot), raw);
        return new UsedElement(ReadUInt32(raw), ReadUInt32(raw.Slice(4)));
    }

    /// <summary>Reads guest bytes (for example a buffer of an untracked raw chain).</summary>
    /// <param name="address">Start.</param>
    /// <param name="length">Bytes.</param>
    /// <returns>A copy.</returns>
    public byte[] ReadBytes(GuestAddress address, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        byte[] bytes = new byte[length];
        ReadOrThrow(address, bytes);
        return bytes;
    }

    /// <summary>Writes guest bytes through the driver's memory.</summary>
    /// <param name="address">Start.</param>
    /// <param name="bytes">The bytes.</param>
    public void WriteBytes(GuestAddress address, ReadOnlySpan<byte> bytes) => WriteOrThrow(address, bytes);

    private void ValidateIndex(int index)
    {
        if ((uint)index >= (uint)QueueSize)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Must be below the queue size {QueueSize}; write out-of-table memory with WriteBytes or WriteDescriptorAt.");
        }
    }
}
