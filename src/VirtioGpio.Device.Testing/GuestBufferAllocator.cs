// SPDX-License-Identifier: MIT

namespace VirtioGpio.Device.Testing;

/// <summary>
/// A first-fit allocator over a guest range, for the buffers and indirect tables a simulated
/// driver hands to the device. Freed blocks are merged with their neighbours. Not thread-safe
/// (the drivers that own it serialise their calls).
/// </summary>
public sealed class GuestBufferAllocator
{
    private readonly List<GuestRange> _free = new(); // sorted, non-adjacent

    /// <summary>Creates an allocator over <paramref name="area"/>.</summary>
    /// <param name="area">The guest range to hand out; it must not overlap the rings.</param>
    /// <param name="alignment">Alignment of every block (a power of two; default 16, the descriptor-table alignment).</param>
    public GuestBufferAllocator(GuestRange area, ulong alignment = 16)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), "The alignment must be a power of two.");
        }

        Area = area;
        Alignment = alignment;
        ulong start = SplitRingLayout.AlignUp(area.Start.Value, alignment);
        if (start < area.EndExclusive)
        {
            _free.Add(new GuestRange(start, area.EndExclusive - start));
        }
    }

    /// <summary>The range this allocator manages.</summary>
    public GuestRange Area { get; }

    /// <summary>Alignment of every block.</summary>
    public ulong Alignment { get; }

    /// <summary>Bytes currently free.</summary>
    public ulong FreeBytes
    {
        get
        {
            ulong total = 0;
            foreach (GuestRange r in _free)
            {
                total += r.Length;
            }

            return total;
        }
    }

    /// <summary>Allocates <paramref name="length"/> bytes (a zero-length request still gets a distinct aligned address).</summary>
    /// <param name="length">Requested bytes.</param>
    /// <returns>The block.</returns>
    /// <exception cref="InvalidOperationException">Not enough contiguous free space.</exception>
    public GuestRange Allocate(ulong length)
    {
        if (!TryAllocate(length, out GuestRange block))
        {
            throw new InvalidOperationException($"Guest buffer area {Area} has no free block of {length} bytes ({FreeBytes} bytes free in total).");
        }

        return block;
    }

    /// <summary>Allocates <paramref name="length"/> bytes.</summary>
    /// <param name="length">Requested bytes.</param>
    /// <param name="block">The block; its <see cref="GuestRange.Length"/> is the requested length.</param>
    /// <returns><see langword="false"/> when no free block is large enough.</returns>
    public bool TryAllocate(ulong length, out GuestRange block)
    {
        ulong rounded = SplitRingLayout.AlignUp(Math.Max(length, 1), Alignment);
        for (int i = 0; i < _free.Count; i++)
        {
            GuestRange candidate = _free[i];
            if (candidate.Length < rounded)
            {
                continue;
            }

            if (candidate.Length == rounded)
            {
                _free.RemoveAt(i);
            }
            else
            {
                _free[i] = new GuestRange(candidate.Start.Value + rounded, candidate.Length - rounded);
            }

            block = new GuestRange(candidate.Start, length);
            return true;
        }

        block = default;
        return false;
    }

    /// <summary>Returns a block from <see cref="Allocate(ulong)"/>.</summary>
    /// <param name="block">The block exactly as returned.</param>
    /// <exception cref="InvalidOperationException">The block overlaps free space (double free).</exception>
    public void Free(GuestRange block)
    {
        ulong start = block.Start.Value;
        ulong length = SplitRingLayout.AlignUp(Math.Max(block.Length, 1), Alignment);
        int index = 0;
        while (index < _free.Count && _free[index].Start.Value < start)
        {
            index++;
        }

        if ((index > 0 && _free[index - 1].EndExclusive > start) || (index < _free.Count && start + length > _free[index].Start.Value))
        {
            throw new InvalidOperationException($"Block {block} is already free.");
        }

        _free.Insert(index, new GuestRange(start, length));

        // Merge with the next and previous neighbours.
        if (index + 1 < _free.Count && _free[index].EndExclusive == _free[index + 1].Start.Value)
        {
            _free[index] = new GuestRange(_free[index].Start, _free[index].Length + _free[index + 1].Length);
            _free.RemoveAt(index + 1);
        }

        if (index > 0 && _free[index - 1].EndExclusive == _free[index].Start.Value)
        {
            _free[index - 1] = new GuestRange(_free[index - 1].Start, _free[index - 1].Length + _free[index].Length);
            _free.RemoveAt(index);
        }
    }
}
