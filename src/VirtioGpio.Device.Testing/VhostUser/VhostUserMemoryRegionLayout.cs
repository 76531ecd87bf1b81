// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Testing.VhostUser;

/// <summary>
/// How one region of a <see cref="VhostUserGuestMemory"/> is laid out: its guest physical range,
/// and where it lives in a memfd. Regions with the same non-negative <see cref="FileIndex"/> share
/// one memfd (QEMU's virtio-mmio machines send two regions of one memfd: VHOST-USER.md §12.1 step 11).
/// </summary>
public readonly struct VhostUserMemoryRegionLayout
{
    /// <summary>Describes a region.</summary>
    /// <param name="guestAddress">Guest physical address of the first byte.</param>
    /// <param name="size">Size in bytes (at least 1).</param>
    /// <param name="mmapOffset">Offset of the region in its memfd (sent as <c>mmap_offset</c>).</param>
    /// <param name="fileIndex">Regions with the same non-negative index share a memfd; -1 gives the region a memfd of its own.</param>
    public VhostUserMemoryRegionLayout(GuestAddress guestAddress, ulong size, ulong mmapOffset = 0, int fileIndex = -1)
    {
        GuestAddress = guestAddress;
        Size = size;
        MmapOffset = mmapOffset;
        FileIndex = fileIndex;
    }

    /// <summary>Guest physical address of the first byte.</summary>
    public GuestAddress GuestAddress { get; }

    /// <summary>Size in bytes.</summary>
    public ulong Size { get; }

    /// <summary>Offset of the region in its memfd.</summary>
    public ulong MmapOffset { get; }

    /// <summary>Which memfd the region lives in (-1: its own).</summary>
    public int FileIndex { get; }

    /// <inheritdoc/>
    public override string ToString() => $"gpa {GuestAddress} size 0x{Size:x} offset 0x{MmapOffset:x} file {FileIndex}";
}
