// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Memory;

/// <summary>
/// An immutable memory table: the mapped regions and a <see cref="RegionGuestMemory"/> keyed by
/// guest physical address. Each SET_MEM_TABLE / ADD_MEM_REG / REM_MEM_REG builds a new table
/// (VHOST-USER.md §8); regions carried over are shared, so only the owner disposes them.
/// </summary>
internal sealed class VhostUserMemoryTable
{
    /// <summary>The empty table.</summary>
    public static readonly VhostUserMemoryTable Empty = new(Array.Empty<VhostUserMemoryRegion>());

    private VhostUserMemoryTable(VhostUserMemoryRegion[] regions)
    {
        Regions = regions;
        Memory = regions.Length == 0 ? null : new RegionGuestMemory(regions.Select(static r => r.GuestRegion));
    }

    /// <summary>The regions in the order they were added.</summary>
    public IReadOnlyList<VhostUserMemoryRegion> Regions { get; }

    /// <summary>Guest memory over every region, or <see langword="null"/> for the empty table.</summary>
    public RegionGuestMemory? Memory { get; }

    /// <summary>Builds a table from regions (already validated and mapped).</summary>
    public static VhostUserMemoryTable Create(IEnumerable<VhostUserMemoryRegion> regions) => new(regions.ToArray());

    /// <summary>This table plus <paramref name="region"/>.</summary>
    public VhostUserMemoryTable With(VhostUserMemoryRegion region) => new(Regions.Append(region).ToArray());

    /// <summary>This table without <paramref name="region"/>.</summary>
    public VhostUserMemoryTable Without(VhostUserMemoryRegion region) => new(Regions.Where(r => !ReferenceEquals(r, region)).ToArray());

    /// <summary>Checks a new region against each region of the table (no overlap).</summary>
    public bool OverlapsAny(in VhostUserMemoryRegionInfo info)
    {
        foreach (VhostUserMemoryRegion region in Regions)
        {
            if (VhostUserMemoryRegion.Overlaps(region.Info, info))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Finds the region REM_MEM_REG names (by guest address, user address and size; mmap_offset ignored, VHOST-USER.md §8.2).</summary>
    public VhostUserMemoryRegion? Find(in VhostUserMemoryRegionInfo info)
    {
        foreach (VhostUserMemoryRegion region in Regions)
        {
            if (region.Info.GuestAddress == info.GuestAddress && region.Info.UserAddress == info.UserAddress && region.Info.Size == info.Size)
            {
                return region;
            }
        }

        return null;
    }

    /// <summary>
    /// Translates a ring's user address range into a guest physical address. The whole range must lie
    /// inside one region (VHOST-USER.md §6.4, §8.3; CVE-2018-1059 / LVU-7: never only the start).
    /// </summary>
    public bool TryTranslateUser(ulong userAddress, ulong length, out GuestAddress guestAddress)
    {
        foreach (VhostUserMemoryRegion region in Regions)
        {
            if (region.TryTranslateUser(userAddress, length, out guestAddress))
            {
                return true;
            }
        }

        guestAddress = default;
        return false;
    }

    /// <summary>Unmaps every region of this table.</summary>
    public void DisposeRegions()
    {
        foreach (VhostUserMemoryRegion region in Regions)
        {
            region.Dispose();
        }
    }
}
