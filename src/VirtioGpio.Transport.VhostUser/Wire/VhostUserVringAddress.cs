// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace VirtioGpio.Transport.VhostUser.Wire;

/// <summary>
/// Vring address payload (40 bytes): <c>u32 index; u32 flags; u64 desc; u64 used; u64 avail; u64 log</c>.
/// Note the field order desc, used, avail (VHOST-USER.md §2). Ring fields are front-end user addresses.
/// </summary>
internal readonly record struct VhostUserVringAddress(uint Index, uint Flags, ulong Descriptor, ulong Used, ulong Avail, ulong Log)
{
    /// <summary>Payload size.</summary>
    public const int Size = 40;

    /// <summary>VHOST_VRING_F_LOG: log used-ring writes (LOG_SHMFD only).</summary>
    public const uint FlagLog = 1;

    /// <summary>Reads the payload.</summary>
    public static VhostUserVringAddress Read(ReadOnlySpan<byte> source)
        => new(
            BinaryPrimitives.ReadUInt32LittleEndian(source),
            BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(4)),
            BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(8)),
            BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(16)),
            BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(24)),
            BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(32)));

    /// <summary>Writes the payload.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Index);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(4), Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(8), Descriptor);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(16), Used);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(24), Avail);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(32), Log);
    }
}
