// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Testing.VhostUser;

/// <summary>
/// One memory region exactly as a front-end describes it in SET_MEM_TABLE / ADD_MEM_REG /
/// REM_MEM_REG (<c>u64 guest_addr; u64 size; u64 user_addr; u64 mmap_offset</c>, VHOST-USER.md §2),
/// plus the fd that travels with it. Tests build arbitrary (overlapping, unmapped, oversized)
/// descriptors with the constructor.
/// </summary>
public readonly struct VhostUserMemoryRegionDescriptor
{
    /// <summary>Describes a region.</summary>
    /// <param name="guestAddress">Guest physical address (<c>guest_addr</c>).</param>
    /// <param name="size">Size in bytes.</param>
    /// <param name="userAddress">Front-end virtual address of the first byte (<c>user_addr</c>); ring addresses are translated through it.</param>
    /// <param name="mmapOffset">Offset of the first byte in the file (<c>mmap_offset</c>).</param>
    /// <param name="fd">The file descriptor sent with the region (-1: none). Not owned by the descriptor.</param>
    public VhostUserMemoryRegionDescriptor(GuestAddress guestAddress, ulong size, ulong userAddress, ulong mmapOffset, int fd)
    {
        GuestAddress = guestAddress;
        Size = size;
        UserAddress = userAddress;
        MmapOffset = mmapOffset;
        Fd = fd;
    }

    /// <summary>Guest physical address of the first byte.</summary>
    public GuestAddress GuestAddress { get; }

    /// <summary>Size in bytes.</summary>
    public ulong Size { get; }

    /// <summary>Front-end virtual address of the first byte.</summary>
    public ulong UserAddress { get; }

    /// <summary>Offset of the first byte in the file.</summary>
    public ulong MmapOffset { get; }

    /// <summary>The file descriptor sent with the region (-1: none).</summary>
    public int Fd { get; }

    /// <summary>A copy with other values (for malformed tables).</summary>
    /// <param name="guestAddress">New guest address, or <see langword="null"/> to keep.</param>
    /// <param name="size">New size, or <see langword="null"/> to keep.</param>
    /// <param name="userAddress">New user address, or <see langword="null"/> to keep.</param>
    /// <param name="mmapOffset">New offset, or <see langword="null"/> to keep.</param>
    /// <returns>The modified descriptor.</returns>
    public VhostUserMemoryRegionDescriptor With(GuestAddress? guestAddress = null, ulong? size = null, ulong? userAddress = null, ulong? mmapOffset = null) =>
        new(guestAddress ?? GuestAddress, size ?? Size, userAddress ?? UserAddress, mmapOffset ?? MmapOffset, Fd);

    /// <inheritdoc/>
    public override string ToString() => $"gpa {GuestAddress} size 0x{Size:x} uaddr 0x{UserAddress:x} offset 0x{MmapOffset:x} fd {Fd}";
}
