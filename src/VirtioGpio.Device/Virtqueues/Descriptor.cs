// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <summary>
/// One 16-byte split-ring descriptor, copied out of guest memory
/// (VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table": <c>le64 addr; le32 len; le16 flags; le16 next</c>).
/// </summary>
[StructLayout(LayoutKind.Sequential)] // the ring engine copies descriptors with one 16-byte load: keep the field order
public readonly struct Descriptor
{
    /// <summary>The size of one descriptor in the table.</summary>
    public const int Size = 16;

    /// <summary>Creates a descriptor.</summary>
    /// <param name="address">Guest address of the buffer.</param>
    /// <param name="length">Length of the buffer in bytes.</param>
    /// <param name="flags">Descriptor flags.</param>
    /// <param name="next">Index of the next descriptor when <see cref="DescriptorFlags.Next"/> is set.</param>
    public Descriptor(GuestAddress address, uint length, DescriptorFlags flags, ushort next)
    {
        Address = address;
        Length = length;
        Flags = flags;
        Next = next;
    }

    /// <summary>Guest address of the buffer.</summary>
    public GuestAddress Address { get; }

    /// <summary>Length of the buffer in bytes.</summary>
    public uint Length { get; }

    /// <summary>Flags as the driver wrote them.</summary>
    public DescriptorFlags Flags { get; }

    /// <summary>The <c>next</c> field as the driver wrote it.</summary>
    public ushort Next { get; }

    /// <summary>Whether the buffer is device-writable.</summary>
    public bool IsWriteOnly => (Flags & DescriptorFlags.Write) != 0;

    /// <summary>Whether the chain continues.</summary>
    public bool HasNext => (Flags & DescriptorFlags.Next) != 0;

    /// <summary>Whether the buffer is an indirect descriptor table.</summary>
    public bool IsIndirect => (Flags & DescriptorFlags.Indirect) != 0;

    /// <summary>Decodes a descriptor from its 16-byte little-endian wire form.</summary>
    /// <param name="source">At least 16 bytes.</param>
    /// <param name="descriptor">The decoded descriptor.</param>
    /// <returns><see langword="false"/> when <paramref name="source"/> is shorter than 16 bytes.</returns>
    public static bool TryRead(ReadOnlySpan<byte> source, out Descriptor descriptor)
    {
        if (source.Length < Size)
        {
            descriptor = default;
            return false;
        }

        descriptor = new Descriptor(
            new GuestAddress(BinaryPrimitives.ReadUInt64LittleEndian(source)),
            BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(8)),
            (DescriptorFlags)BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(12)),
            BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(14)));
        return true;
    }

    /// <summary>Encodes the descriptor into its 16-byte little-endian wire form.</summary>
    /// <param name="destination">At least 16 bytes.</param>
    /// <returns><see langword="false"/> when <paramref name="destination"/> is too short.</returns>
    public bool TryWrite(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(destination, Address.Value);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(8), Length);
        BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(12), (ushort)Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(14), Next);
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{{addr {Address}, len {Length}, flags {Flags}, next {Next}}}";
}
