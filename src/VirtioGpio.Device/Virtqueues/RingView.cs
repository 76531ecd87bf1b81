// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <summary>
/// A ring part resolved once at activation to the single <see cref="GuestMemoryRegion"/> holding
/// all of it, so ring accesses skip the region lookup. <see cref="Region"/> is null when the memory
/// is not a <see cref="RegionGuestMemory"/> or the part spans regions: then the generic
/// <see cref="IGuestMemory"/> path is used.
/// </summary>
internal readonly struct RingView
{
    private RingView(GuestMemoryRegion region, ulong offset)
    {
        Region = region;
        Offset = offset;
    }

    public GuestMemoryRegion? Region { get; }

    public ulong Offset { get; }

    public static RingView Resolve(RegionGuestMemory? memory, GuestAddress start, ulong length, GuestMemoryAccess access)
        => memory is not null && memory.TryResolve(start, length, access, out GuestMemoryRegion? region, out ulong offset)
            ? new RingView(region, offset)
            : default;

    /// <summary>Host view of <c>[start + relative, start + relative + length)</c>; the caller keeps it inside the resolved part.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Slice(GuestMemoryRegion region, ulong relative, int length) => region.GetSpanUnchecked(Offset + relative, length);
}
