// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace VirtioGpio.Transport.VhostUser.Wire;

/// <summary>
/// Inflight payload (24 bytes with C tail padding): <c>u64 mmap_size; u64 mmap_offset; u16 num_queues; u16 queue_size</c>
/// (VHOST-USER.md §2, §10).
/// </summary>
internal readonly record struct VhostUserInflightInfo(ulong MmapSize, ulong MmapOffset, ushort NumQueues, ushort QueueSize)
{
    /// <summary>Payload size (20 bytes of fields + 4 bytes of padding).</summary>
    public const int EncodedSize = 24;

    /// <summary>Reads the payload.</summary>
    public static VhostUserInflightInfo Read(ReadOnlySpan<byte> source)
        => new(
            BinaryPrimitives.ReadUInt64LittleEndian(source),
            BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(8)),
            BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(16)),
            BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(18)));

    /// <summary>Writes the payload (padding zeroed).</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, MmapSize);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(8), MmapOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(16), NumQueues);
        BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(18), QueueSize);
        destination.Slice(20, 4).Clear();
    }
}
