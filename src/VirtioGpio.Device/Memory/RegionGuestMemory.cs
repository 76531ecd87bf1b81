// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtioGpio.Device.Internal;

namespace VirtioGpio.Device.Memory;

/// <summary>
/// Guest memory made of several non-overlapping <see cref="GuestMemoryRegion"/>s (the vhost-user
/// memory table, or one array in tests): sorted by start address, O(log n) lookup with a last-hit
/// fast path.
/// </summary>
/// <remarks>
/// <para><b>Region-crossing policy.</b> <see cref="TryRead(GuestAddress, Span{byte})"/> and
/// <see cref="TryWrite(GuestAddress, ReadOnlySpan{byte})"/> accept a range that runs across
/// <em>adjacent</em> regions (the next region starts exactly one byte after the previous one ends)
/// and stitch the copies; a gap anywhere in the range fails with
/// <see cref="GuestMemoryError.OutOfRange"/>. <see cref="TryGetSpan"/> and the atomic 16-bit
/// accesses need one contiguous host range and fail with
/// <see cref="GuestMemoryError.CrossesRegionBoundary"/> for a range that crosses a boundary, even
/// between adjacent regions: two regions are generally not contiguous on the host.</para>
/// <para>Immutable after construction and safe for concurrent use. A memory-table change creates a
/// new instance.</para>
/// <para>Nothing here throws for a guest-supplied address or length.</para>
/// </remarks>
/// <example>
/// <code>
/// var memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(0), new byte[1 &lt;&lt; 20]));
/// memory.TryWriteUInt32LittleEndian(new GuestAddress(0x1000), 42);
/// </code>
/// </example>
public sealed class RegionGuestMemory : IGuestMemory
{
    private readonly GuestMemoryRegion[] _regions;

    // Index of the region that served the last lookup. Only a hint: a racy read of a stale value
    // is harmless because it is always re-checked.
    private int _lastHit;

    // _regions[_lastHit], so the fast paths load one field instead of indexing the table. Also only a hint
    // (reference writes are atomic; a stale region is re-checked like any other).
    private GuestMemoryRegion _hot;

    /// <summary>Creates guest memory from one region.</summary>
    /// <param name="region">The region.</param>
    /// <exception cref="ArgumentNullException"><paramref name="region"/> is null.</exception>
    public RegionGuestMemory(GuestMemoryRegion region)
        : this(new[] { region ?? throw new ArgumentNullException(nameof(region)) })
    {
    }

    /// <summary>Creates guest memory from several regions, in any order.</summary>
    /// <param name="regions">At least one region; no two may overlap.</param>
    /// <exception cref="ArgumentNullException"><paramref name="regions"/> or an element is null.</exception>
    /// <exception cref="ArgumentException">The list is empty or two regions overlap (host programming errors).</exception>
    public RegionGuestMemory(IEnumerable<GuestMemoryRegion> regions)
    {
        ThrowHelper.ThrowIfNull(regions);
        GuestMemoryRegion[] sorted = regions.ToArray();
        if (sorted.Length == 0)
        {
            ThrowHelper.ThrowArgumentException("At least one guest memory region is required.", nameof(regions));
        }

        foreach (GuestMemoryRegion region in sorted)
        {
            if (region is null)
            {
                ThrowHelper.ThrowArgumentNullException(nameof(regions));
            }
        }

        Array.Sort(sorted, static (a, b) => a.Start.CompareTo(b.Start));
        for (int i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].Start.Value <= sorted[i - 1].LastAddress.Value)
            {
                ThrowHelper.ThrowArgumentException($"Guest memory regions {sorted[i - 1]} and {sorted[i]} overlap.", nameof(regions));
            }
        }

        _regions = sorted;
        _hot = sorted[0];
    }

    /// <summary>The regions, sorted by start address.</summary>
    public IReadOnlyList<GuestMemoryRegion> Regions => _regions;

    /// <summary>Finds the region containing <paramref name="address"/>.</summary>
    /// <param name="address">A guest address.</param>
    /// <param name="region">The region, when found.</param>
    /// <returns><see langword="true"/> when some region backs <paramref name="address"/>.</returns>
    public bool TryFindRegion(GuestAddress address, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GuestMemoryRegion? region)
    {
        int index = FindRegionIndex(address.Value);
        region = index >= 0 ? _regions[index] : null;
        return index >= 0;
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GuestMemoryError TryGetSpan(GuestAddress address, int length, GuestMemoryAccess access, out Span<byte> span)
    {
        // Fast path: the region of the previous lookup holds the whole range.
        GuestMemoryRegion region = _hot;
        ulong offset = unchecked(address.Value - region.Start.Value); // wraps by design: huge when below Start
        if (offset < region.Length && (ulong)(uint)length <= region.Length - offset && length > 0 && (region.Access & access) == access)
        {
            span = region.GetSpanUnchecked(offset, length);
            return GuestMemoryError.None;
        }

        return TryGetSpanSlow(address, length, access, out span);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GuestMemoryError TryRead(GuestAddress address, Span<byte> destination)
    {
        // Fast path: the region of the previous lookup holds the whole range.
        GuestMemoryRegion region = _hot;
        ulong offset = unchecked(address.Value - region.Start.Value); // wraps by design: huge when below Start
        if (offset < region.Length && (ulong)(uint)destination.Length <= region.Length - offset && (region.Access & GuestMemoryAccess.Read) != 0)
        {
            SmallCopy.Copy(region.GetSpanUnchecked(offset, destination.Length), destination);
            return GuestMemoryError.None;
        }

        return TryReadSlow(address, destination);
    }

    private GuestMemoryError TryReadSlow(GuestAddress address, Span<byte> destination)
    {
        GuestMemoryError error = TryGetSpan(address, destination.Length, GuestMemoryAccess.Read, out Span<byte> span);
        if (error == GuestMemoryError.None)
        {
            span.CopyTo(destination);
            return GuestMemoryError.None;
        }

        if (error != GuestMemoryError.CrossesRegionBoundary)
        {
            return error;
        }

        // Stitch across adjacent regions (checked as we go; destination content is unspecified on failure).
        ulong current = address.Value;
        int index = FindRegionIndex(current);
        while (!destination.IsEmpty)
        {
            if (index < 0 || index >= _regions.Length || !_regions[index].Contains(new GuestAddress(current)))
            {
                return GuestMemoryError.OutOfRange;
            }

            GuestMemoryRegion region = _regions[index];
            if ((region.Access & GuestMemoryAccess.Read) == 0)
            {
                return GuestMemoryError.AccessDenied;
            }

            ulong offset = current - region.Start.Value;
            int chunk = (int)Math.Min((ulong)destination.Length, region.Length - offset);
            region.GetSpanUnchecked(offset, chunk).CopyTo(destination);
            destination = destination.Slice(chunk);
            current += (ulong)chunk; // cannot wrap: the range was checked by TryGetSpan
            index++;
        }

        return GuestMemoryError.None;
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GuestMemoryError TryWrite(GuestAddress address, ReadOnlySpan<byte> source)
    {
        GuestMemoryRegion region = _hot;
        ulong offset = unchecked(address.Value - region.Start.Value); // wraps by design: huge when below Start
        if (offset < region.Length && (ulong)(uint)source.Length <= region.Length - offset && (region.Access & GuestMemoryAccess.Write) != 0)
        {
            SmallCopy.Copy(source, region.GetSpanUnchecked(offset, source.Length));
            return GuestMemoryError.None;
        }

        return TryWriteSlow(address, source);
    }

    private GuestMemoryError TryWriteSlow(GuestAddress address, ReadOnlySpan<byte> source)
    {
        GuestMemoryError error = TryGetSpan(address, source.Length, GuestMemoryAccess.Write, out Span<byte> span);
        if (error == GuestMemoryError.None)
        {
            source.CopyTo(span);
            return GuestMemoryError.None;
        }

        if (error != GuestMemoryError.CrossesRegionBoundary)
        {
            return error;
        }

        // Check the whole stitched range first, so a failed write writes nothing.
        int first = FindRegionIndex(address.Value);
        ulong current = address.Value;
        ulong remaining = (ulong)source.Length;
        int index = first;
        while (remaining != 0)
        {
            if (index < 0 || index >= _regions.Length || !_regions[index].Contains(new GuestAddress(current)))
            {
                return GuestMemoryError.OutOfRange;
            }

            GuestMemoryRegion region = _regions[index];
            if ((region.Access & GuestMemoryAccess.Write) == 0)
            {
                return GuestMemoryError.AccessDenied;
            }

            ulong chunk = Math.Min(remaining, region.Length - (current - region.Start.Value));
            remaining -= chunk;
            current += chunk;
            index++;
        }

        current = address.Value;
        index = first;
        while (!source.IsEmpty)
        {
            GuestMemoryRegion region = _regions[index];
            ulong offset = current - region.Start.Value;
            int chunk = (int)Math.Min((ulong)source.Length, region.Length - offset);
            source.Slice(0, chunk).CopyTo(region.GetSpanUnchecked(offset, chunk));
            source = source.Slice(chunk);
            current += (ulong)chunk;
            index++;
        }

        return GuestMemoryError.None;
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GuestMemoryError TryLoadAcquireUInt16(GuestAddress address, out ushort value)
    {
        // VIRTIO 1.3 §2.7.6 "The Virtqueue Available Ring" / §2.7.8 "The Virtqueue Used Ring":
        // ring indices are naturally aligned 16-bit fields; refuse anything else.
        if ((address.Value & 1) != 0)
        {
            value = 0;
            return GuestMemoryError.Misaligned;
        }

        GuestMemoryError error = TryGetSpan(address, sizeof(ushort), GuestMemoryAccess.Read, out Span<byte> span);
        value = error == GuestMemoryError.None ? HostAtomics.LoadAcquireUInt16LittleEndian(span) : (ushort)0;
        return error;
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GuestMemoryError TryStoreReleaseUInt16(GuestAddress address, ushort value)
    {
        if ((address.Value & 1) != 0)
        {
            return GuestMemoryError.Misaligned;
        }

        GuestMemoryError error = TryGetSpan(address, sizeof(ushort), GuestMemoryAccess.Write, out Span<byte> span);
        if (error == GuestMemoryError.None)
        {
            HostAtomics.StoreReleaseUInt16LittleEndian(span, value);
        }

        return error;
    }

    /// <summary>
    /// Finds the single region that holds all of <c>[address, address + length)</c> with
    /// <paramref name="access"/> (the queue engine resolves its rings once at activation).
    /// </summary>
    internal bool TryResolve(GuestAddress address, ulong length, GuestMemoryAccess access, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GuestMemoryRegion? region, out ulong offset)
    {
        region = null;
        offset = 0;
        if (length == 0 || !address.IsRangeValid(length))
        {
            return false;
        }

        int index = FindRegionIndex(address.Value);
        if (index < 0)
        {
            return false;
        }

        GuestMemoryRegion candidate = _regions[index];
        ulong start = address.Value - candidate.Start.Value;
        if (length > candidate.Length - start || (candidate.Access & access) != access)
        {
            return false;
        }

        region = candidate;
        offset = start;
        return true;
    }

    /// <summary>
    /// Checks that every byte of <c>[address, address + length)</c> is backed with
    /// <paramref name="access"/>, allowing the range to run across adjacent regions (what
    /// <see cref="TryRead"/>/<see cref="TryWrite"/> accept). A zero-length range is always valid.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal GuestMemoryError CheckRange(GuestAddress address, ulong length, GuestMemoryAccess access)
    {
        GuestMemoryRegion region = _hot;
        ulong offset = unchecked(address.Value - region.Start.Value); // wraps by design: huge when below Start
        if (offset < region.Length && length <= region.Length - offset && (region.Access & access) == access)
        {
            return GuestMemoryError.None;
        }

        return CheckRangeSlow(address, length, access);
    }

    private GuestMemoryError CheckRangeSlow(GuestAddress address, ulong length, GuestMemoryAccess access)
    {
        if (length == 0)
        {
            return GuestMemoryError.None;
        }

        if (!address.IsRangeValid(length))
        {
            return GuestMemoryError.AddressOverflow;
        }

        int index = FindRegionIndex(address.Value);
        if (index < 0)
        {
            return GuestMemoryError.OutOfRange;
        }

        ulong last = address.Value + (length - 1);
        while (true)
        {
            GuestMemoryRegion region = _regions[index];
            if ((region.Access & access) != access)
            {
                return GuestMemoryError.AccessDenied;
            }

            if (region.LastAddress.Value >= last)
            {
                _lastHit = index;
                _hot = region;
                return GuestMemoryError.None;
            }

            if (index + 1 >= _regions.Length || _regions[index + 1].Start.Value != region.LastAddress.Value + 1)
            {
                return GuestMemoryError.OutOfRange;
            }

            index++;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"RegionGuestMemory({_regions.Length} region(s))";

    private GuestMemoryError TryGetSpanSlow(GuestAddress address, int length, GuestMemoryAccess access, out Span<byte> span)
    {
        span = default;
        if (length <= 0)
        {
            // A zero-length access needs no backing; a negative length is a caller bug reported as out of range.
            return length == 0 ? GuestMemoryError.None : GuestMemoryError.OutOfRange;
        }

        if (!address.IsRangeValid((ulong)length))
        {
            return GuestMemoryError.AddressOverflow;
        }

        int index = FindRegionIndex(address.Value);
        if (index < 0)
        {
            return GuestMemoryError.OutOfRange;
        }

        GuestMemoryRegion region = _regions[index];
        ulong offset = address.Value - region.Start.Value;
        if ((ulong)length > region.Length - offset)
        {
            // The range runs past this region: report a boundary crossing only when the rest is
            // really backed (adjacent regions), so callers can fall back to a stitched copy.
            return IsBackedAcrossAdjacentRegions(index, address.Value, (ulong)length) ? GuestMemoryError.CrossesRegionBoundary : GuestMemoryError.OutOfRange;
        }

        if ((region.Access & access) != access)
        {
            return GuestMemoryError.AccessDenied;
        }

        _lastHit = index;
        _hot = region;
        span = region.GetSpanUnchecked(offset, length);
        return GuestMemoryError.None;
    }

    private bool IsBackedAcrossAdjacentRegions(int index, ulong address, ulong length)
    {
        ulong last = address + (length - 1); // checked by the caller: does not wrap
        while (_regions[index].LastAddress.Value < last)
        {
            if (index + 1 >= _regions.Length || _regions[index + 1].Start.Value != _regions[index].LastAddress.Value + 1)
            {
                return false;
            }

            index++;
        }

        return true;
    }

    /// <summary>Index of the region containing <paramref name="address"/>, or -1.</summary>
    private int FindRegionIndex(ulong address)
    {
        GuestMemoryRegion[] regions = _regions;
        int hint = _lastHit;
        if (regions[hint].Contains(new GuestAddress(address)))
        {
            return hint;
        }

        int lo = 0;
        int hi = regions.Length - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            GuestMemoryRegion region = regions[mid];
            if (address < region.Start.Value)
            {
                hi = mid - 1;
            }
            else if (address > region.LastAddress.Value)
            {
                lo = mid + 1;
            }
            else
            {
                Debug.Assert(region.Contains(new GuestAddress(address)), "binary search invariant");
                return mid;
            }
        }

        return -1;
    }
}
