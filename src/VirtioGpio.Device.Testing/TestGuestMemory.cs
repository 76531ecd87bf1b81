// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Testing;

/// <summary>
/// Guest memory for tests: one or more managed byte arrays mapped at guest addresses and served
/// by the core's <see cref="RegionGuestMemory"/> (see <see cref="RegionMemory"/>), with helpers
/// to fill and read raw bytes for assertions.
/// </summary>
/// <remarks>
/// <para>Thread-safe for concurrent accesses, like real guest memory (a device worker and a test
/// thread may use it at once). The assertion helpers (<see cref="ReadBytes(GuestAddress, int)"/>,
/// <see cref="WriteBytes(GuestAddress, ReadOnlySpan{byte})"/>, …) throw
/// <see cref="ArgumentOutOfRangeException"/> for unmapped ranges because they are test code, not
/// guest input.</para>
/// <para>16-bit loads and stores are atomic when the region starts at an even address (the array
/// payload is at least 8-byte aligned), which is what a split ring needs.</para>
/// </remarks>
/// <example>
/// <code>
/// var memory = new TestGuestMemory(1 &lt;&lt; 20);          // 1 MiB at guest address 0
/// memory.WriteBytes(new GuestAddress(0x10000), [4, 0, 3, 0, 0, 0, 0, 0]);
/// byte[] response = memory.ReadBytes(new GuestAddress(0x20000), 2);
/// </code>
/// </example>
public sealed class TestGuestMemory : IGuestMemory
{
    private readonly Region[] _regions; // sorted by start, non-overlapping

    /// <summary>Creates one read-write region of <paramref name="length"/> bytes at guest address 0 (the WORKLOAD.md shape uses 1 MiB).</summary>
    /// <param name="length">Size in bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is not positive.</exception>
    public TestGuestMemory(int length)
        : this(new TestMemoryRegion(default, length))
    {
    }

    /// <summary>Creates memory from several regions (gaps between them are unmapped; adjacent regions are separate host arrays, so one span cannot cross them).</summary>
    /// <param name="regions">Non-overlapping regions in any order.</param>
    /// <exception cref="ArgumentException">No region, overlapping regions, or a region that wraps past 2^64.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A region length is not positive.</exception>
    public TestGuestMemory(params TestMemoryRegion[] regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        if (regions.Length == 0)
        {
            throw new ArgumentException("At least one region is required.", nameof(regions));
        }

        var sorted = new Region[regions.Length];
        for (int i = 0; i < regions.Length; i++)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(regions[i].Length, nameof(regions));
            if (!regions[i].Start.IsRangeValid((ulong)regions[i].Length))
            {
                throw new ArgumentException($"Region {regions[i].Range} wraps past 2^64.", nameof(regions));
            }

            sorted[i] = new Region(regions[i].Start.Value, new byte[regions[i].Length], regions[i].Access);
        }

        Array.Sort(sorted, static (a, b) => a.Start.CompareTo(b.Start));
        for (int i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].Start < sorted[i - 1].Start + (ulong)sorted[i - 1].Data.Length)
            {
                throw new ArgumentException("Regions overlap.", nameof(regions));
            }
        }

        _regions = sorted;
        RegionMemory = new RegionGuestMemory(Array.ConvertAll(sorted, static r => new GuestMemoryRegion(new GuestAddress(r.Start), r.Data, r.Access)));
        RegionDescriptions = Array.ConvertAll(sorted, static r => new TestMemoryRegion(new GuestAddress(r.Start), r.Data.Length, r.Access));
    }

    /// <summary>The core's <see cref="RegionGuestMemory"/> over the same arrays: every <see cref="IGuestMemory"/> call of this object goes through it, so tests exercise the production memory code.</summary>
    public RegionGuestMemory RegionMemory { get; }

    /// <summary>The regions, sorted by start address.</summary>
    public IReadOnlyList<TestMemoryRegion> RegionDescriptions { get; }

    /// <summary>Total mapped bytes.</summary>
    public long TotalSize
    {
        get
        {
            long total = 0;
            foreach (Region r in _regions)
            {
                total += r.Data.Length;
            }

            return total;
        }
    }

    /// <summary>The host array behind region <paramref name="index"/> (sorted order). Writes to it are writes to guest memory.</summary>
    /// <param name="index">0 .. <see cref="RegionDescriptions"/>.Count - 1.</param>
    /// <returns>The backing array.</returns>
    public byte[] GetRegionArray(int index) => _regions[index].Data;

    /// <inheritdoc/>
    public GuestMemoryError TryGetSpan(GuestAddress address, int length, GuestMemoryAccess access, out Span<byte> span) =>
        RegionMemory.TryGetSpan(address, length, access, out span);

    /// <inheritdoc/>
    public GuestMemoryError TryRead(GuestAddress address, Span<byte> destination) =>
        RegionMemory.TryRead(address, destination);

    /// <inheritdoc/>
    public GuestMemoryError TryWrite(GuestAddress address, ReadOnlySpan<byte> source) =>
        RegionMemory.TryWrite(address, source);

    /// <inheritdoc/>
    public GuestMemoryError TryLoadAcquireUInt16(GuestAddress address, out ushort value) =>
        RegionMemory.TryLoadAcquireUInt16(address, out value);

    /// <inheritdoc/>
    public GuestMemoryError TryStoreReleaseUInt16(GuestAddress address, ushort value) =>
        RegionMemory.TryStoreReleaseUInt16(address, value);

    /// <summary>Whether every byte of <c>[address, address + length)</c> is mapped.</summary>
    /// <param name="address">Start of the range.</param>
    /// <param name="length">Length in bytes.</param>
    /// <returns><see langword="true"/> when the whole range is backed.</returns>
    public bool IsMapped(GuestAddress address, ulong length) =>
        length == 0 || CheckStitched(address.Value, length, GuestMemoryAccess.None) == GuestMemoryError.None;

    /// <summary>Reads <paramref name="length"/> bytes (test helper; may cross adjacent regions).</summary>
    /// <param name="address">Start of the range.</param>
    /// <param name="length">Number of bytes.</param>
    /// <returns>A copy of the bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is not mapped.</exception>
    public byte[] ReadBytes(GuestAddress address, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        byte[] result = new byte[length];
        ThrowIfFailed(Copy(address.Value, result, default, GuestMemoryAccess.None), address, length);
        return result;
    }

    /// <summary>Reads bytes into <paramref name="destination"/> (test helper, ignores region permissions).</summary>
    /// <param name="address">Start of the range.</param>
    /// <param name="destination">Receives the bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not mapped.</exception>
    public void ReadBytes(GuestAddress address, Span<byte> destination) =>
        ThrowIfFailed(Copy(address.Value, destination, default, GuestMemoryAccess.None), address, destination.Length);

    /// <summary>Writes bytes (test helper, ignores region permissions, so it can also fill read-only regions).</summary>
    /// <param name="address">Start of the range.</param>
    /// <param name="source">Bytes to write.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not mapped.</exception>
    public void WriteBytes(GuestAddress address, ReadOnlySpan<byte> source) =>
        ThrowIfFailed(Copy(address.Value, default, source, GuestMemoryAccess.None), address, source.Length);

    /// <summary>Sets <paramref name="length"/> bytes to <paramref name="value"/> (for example 0xAA to detect bytes a device failed to write).</summary>
    /// <param name="address">Start of the range.</param>
    /// <param name="length">Number of bytes.</param>
    /// <param name="value">The fill byte.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not mapped.</exception>
    public void Fill(GuestAddress address, int length, byte value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        byte[] fill = new byte[length];
        fill.AsSpan().Fill(value);
        WriteBytes(address, fill);
    }

    /// <summary>Reads a little-endian 16-bit value (test helper).</summary>
    /// <param name="address">Where to read.</param>
    /// <returns>The value.</returns>
    public ushort ReadUInt16(GuestAddress address) => BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(address, 2));

    /// <summary>Reads a little-endian 32-bit value (test helper).</summary>
    /// <param name="address">Where to read.</param>
    /// <returns>The value.</returns>
    public uint ReadUInt32(GuestAddress address) => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(address, 4));

    /// <summary>Reads a little-endian 64-bit value (test helper).</summary>
    /// <param name="address">Where to read.</param>
    /// <returns>The value.</returns>
    public ulong ReadUInt64(GuestAddress address) => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(address, 8));

    /// <summary>Writes a little-endian 16-bit value (test helper).</summary>
    /// <param name="address">Where to write.</param>
    /// <param name="value">The value.</param>
    public void WriteUInt16(GuestAddress address, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        WriteBytes(address, bytes);
    }

    /// <summary>Writes a little-endian 32-bit value (test helper).</summary>
    /// <param name="address">Where to write.</param>
    /// <param name="value">The value.</param>
    public void WriteUInt32(GuestAddress address, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        WriteBytes(address, bytes);
    }

    /// <summary>Writes a little-endian 64-bit value (test helper).</summary>
    /// <param name="address">Where to write.</param>
    /// <param name="value">The value.</param>
    public void WriteUInt64(GuestAddress address, ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        WriteBytes(address, bytes);
    }

    /// <summary>Zeroes every mapped byte.</summary>
    public void Clear()
    {
        foreach (Region r in _regions)
        {
            Array.Clear(r.Data);
        }
    }

    private static void ThrowIfFailed(GuestMemoryError error, GuestAddress address, int length)
    {
        if (error != GuestMemoryError.None)
        {
            throw new ArgumentOutOfRangeException(nameof(address), $"Guest range {new GuestRange(address, (ulong)length)} is not accessible: {error}.");
        }
    }

    // Checks that [address, address + length) is covered by adjacent regions permitting `access`.
    private GuestMemoryError CheckStitched(ulong address, ulong length, GuestMemoryAccess access)
    {
        if (unchecked(address + (length - 1)) < address)
        {
            return GuestMemoryError.AddressOverflow;
        }

        ulong cursor = address;
        ulong remaining = length;
        while (remaining > 0)
        {
            int index = FindRegion(cursor);
            if (index < 0)
            {
                return GuestMemoryError.OutOfRange;
            }

            Region r = _regions[index];
            if ((r.Access & access) != access)
            {
                return GuestMemoryError.AccessDenied;
            }

            ulong available = (ulong)r.Data.Length - (cursor - r.Start);
            ulong take = Math.Min(available, remaining);
            remaining -= take;
            cursor += take;
        }

        return GuestMemoryError.None;
    }

    // Exactly one of destination/source is used; access None = test helper (no permission check).
    private GuestMemoryError Copy(ulong address, Span<byte> destination, ReadOnlySpan<byte> source, GuestMemoryAccess access)
    {
        bool isRead = source.IsEmpty;
        int length = isRead ? destination.Length : source.Length;
        if (length == 0)
        {
            return GuestMemoryError.None;
        }

        GuestMemoryError error = CheckStitched(address, (ulong)length, access);
        if (error != GuestMemoryError.None)
        {
            return error;
        }

        ulong cursor = address;
        int done = 0;
        while (done < length)
        {
            Region r = _regions[FindRegion(cursor)];
            int offset = (int)(cursor - r.Start);
            int take = Math.Min(r.Data.Length - offset, length - done);
            if (isRead)
            {
                r.Data.AsSpan(offset, take).CopyTo(destination.Slice(done, take));
            }
            else
            {
                source.Slice(done, take).CopyTo(r.Data.AsSpan(offset, take));
            }

            done += take;
            cursor += (ulong)take;
        }

        return GuestMemoryError.None;
    }

    private int FindRegion(ulong address)
    {
        int lo = 0;
        int hi = _regions.Length - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            Region r = _regions[mid];
            if (address < r.Start)
            {
                hi = mid - 1;
            }
            else if (address - r.Start >= (ulong)r.Data.Length)
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return -1;
    }

    private readonly record struct Region(ulong Start, byte[] Data, GuestMemoryAccess Access);
}
