// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Transport.VhostUser.Interop;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Memory;

/// <summary>One mapped region of the front-end's memory table: the mmap and the pointer-backed guest region over it.</summary>
internal sealed class VhostUserMemoryRegion : IDisposable
{
    private readonly MappedMemory _mapping;

    private VhostUserMemoryRegion(VhostUserMemoryRegionInfo info, MappedMemory mapping, GuestMemoryRegion region)
    {
        Info = info;
        _mapping = mapping;
        GuestRegion = region;
    }

    /// <summary>The region as the front-end described it.</summary>
    public VhostUserMemoryRegionInfo Info { get; }

    /// <summary>The guest view (GPA-keyed, host-pointer-backed).</summary>
    public GuestMemoryRegion GuestRegion { get; }

    /// <summary>Checks one region's own fields (VHOST-USER.md §8.1: size &gt; 0, no overflow).</summary>
    public static MemoryTableError CheckFields(in VhostUserMemoryRegionInfo info)
    {
        if (info.Size == 0)
        {
            return MemoryTableError.ZeroSize;
        }

        ulong last = info.Size - 1;
        if (info.GuestAddress > ulong.MaxValue - last || info.UserAddress > ulong.MaxValue - last || info.MmapOffset > ulong.MaxValue - last
            || info.MmapOffset + last > long.MaxValue)
        {
            return MemoryTableError.Overflow;
        }

        return MemoryTableError.None;
    }

    /// <summary>Whether two regions overlap in guest physical or in user address space.</summary>
    public static bool Overlaps(in VhostUserMemoryRegionInfo a, in VhostUserMemoryRegionInfo b)
        => RangesOverlap(a.GuestAddress, a.Size, b.GuestAddress, b.Size) || RangesOverlap(a.UserAddress, a.Size, b.UserAddress, b.Size);

    private static bool RangesOverlap(ulong startA, ulong sizeA, ulong startB, ulong sizeB)
        => startA <= startB + (sizeB - 1) && startB <= startA + (sizeA - 1); // sizes > 0 and no overflow: checked first

    /// <summary>Checks the file size and maps <c>[mmap_offset, mmap_offset + size)</c> of <paramref name="fd"/> MAP_SHARED.</summary>
    /// <param name="info">A region whose fields passed <see cref="CheckFields"/>.</param>
    /// <param name="fd">The region's fd (not consumed; the caller closes it).</param>
    /// <param name="region">The mapped region.</param>
    /// <param name="errno">The errno of a failed fstat/mmap.</param>
    public static MemoryTableError TryMap(in VhostUserMemoryRegionInfo info, int fd, out VhostUserMemoryRegion? region, out int errno)
    {
        region = null;
        errno = FileDescriptors.TryGetFileSize(fd, out long fileSize);
        if (errno != 0)
        {
            return MemoryTableError.StatFailed;
        }

        // VHOST-USER.md §8.1: fstat(fd).st_size ≥ mmap_offset + size, otherwise a later guest access raises SIGBUS.
        if (fileSize < 0 || (ulong)fileSize < info.MmapOffset + info.Size)
        {
            return MemoryTableError.FileTooSmall;
        }

        errno = MappedMemory.TryMap(fd, info.MmapOffset, info.Size, out MappedMemory? mapping, out nint pointer);
        if (errno != 0 || mapping is null)
        {
            return MemoryTableError.MapFailed;
        }

        // SAFETY: [pointer, pointer + size) lies inside the mapping just created; this object keeps
        // it mapped until Dispose, which the connection calls only after no queue can use it.
        GuestMemoryRegion guestRegion = GuestMemoryRegion.FromHostPointer(new GuestAddress(info.GuestAddress), pointer, info.Size);
        region = new VhostUserMemoryRegion(info, mapping, guestRegion);
        return MemoryTableError.None;
    }

    /// <summary>Translates the user range <c>[userAddress, userAddress + length)</c> when it lies entirely inside this region.</summary>
    public bool TryTranslateUser(ulong userAddress, ulong length, out GuestAddress guestAddress)
    {
        guestAddress = default;
        ulong offset = unchecked(userAddress - Info.UserAddress); // wraps by design: huge when below the region
        if (userAddress < Info.UserAddress || offset >= Info.Size || length > Info.Size - offset)
        {
            return false;
        }

        guestAddress = new GuestAddress(Info.GuestAddress + offset);
        return true;
    }

    /// <summary>Unmaps the region.</summary>
    public void Dispose() => _mapping.Dispose();
}
