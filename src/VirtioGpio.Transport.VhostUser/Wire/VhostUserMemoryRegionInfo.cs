// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace VirtioGpio.Transport.VhostUser.Wire;

/// <summary>
/// Memory region descriptor (32 bytes): <c>u64 guest_addr; u64 size; u64 user_addr; u64 mmap_offset</c>.
/// SET_MEM_TABLE carries <c>u32 nregions; u32 padding; region[n]</c>; ADD/REM_MEM_REG carry
/// <c>u64 padding; region</c> (VHOST-USER.md §2).
/// </summary>
internal readonly record struct VhostUserMemoryRegionInfo(ulong GuestAddress, ulong Size, ulong UserAddress, ulong MmapOffset)
{
    /// <summary>Descriptor size.</summary>
    public const int EncodedSize = 32;

    /// <summary>Size of the SET_MEM_TABLE prefix (<c>u32 nregions; u32 padding</c>).</summary>
    public const int TableHeaderSize = 8;

    /// <summary>Payload size of ADD_MEM_REG / REM_MEM_REG (<c>u64 padding; region</c>).</summary>
    public const int SingleRegionPayloadSize = 40;

    /// <summary>Most regions in one SET_MEM_TABLE (VHOST_MEMORY_BASELINE_NREGIONS).</summary>
    public const int MaxTableRegions = 8;

    /// <summary>Reads one descriptor.</summary>
    public static VhostUserMemoryRegionInfo Read(ReadOnlySpan<byte> source)
        => new(
            BinaryPrimitives.ReadUInt64LittleEndian(source),
            BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(8)),
            BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(16)),
            BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(24)));

    /// <summary>Writes one descriptor.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, GuestAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(8), Size);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(16), UserAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(24), MmapOffset);
    }

    /// <inheritdoc/>
    public override string ToString() => $"gpa 0x{GuestAddress:x} size 0x{Size:x} uaddr 0x{UserAddress:x} offset 0x{MmapOffset:x}";
}
