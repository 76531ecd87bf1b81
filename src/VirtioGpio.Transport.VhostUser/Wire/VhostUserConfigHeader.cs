// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace VirtioGpio.Transport.VhostUser.Wire;

/// <summary>Config payload prefix: <c>u32 offset; u32 size; u32 flags</c>, then <c>size</c> data bytes (VHOST-USER.md §7).</summary>
internal readonly record struct VhostUserConfigHeader(uint Offset, uint Size, uint Flags)
{
    /// <summary>Prefix size.</summary>
    public const int EncodedSize = 12;

    /// <summary>VHOST_SET_CONFIG_TYPE_FRONTEND (0): a guest write.</summary>
    public const uint FlagFrontend = 0;

    /// <summary>VHOST_SET_CONFIG_TYPE_MIGRATION (1): live migration.</summary>
    public const uint FlagMigration = 1;

    /// <summary>Reads the prefix.</summary>
    public static VhostUserConfigHeader Read(ReadOnlySpan<byte> source)
        => new(
            BinaryPrimitives.ReadUInt32LittleEndian(source),
            BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(4)),
            BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(8)));

    /// <summary>Writes the prefix.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(4), Size);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(8), Flags);
    }
}
