// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace VirtioGpio.Transport.VhostUser.Wire;

/// <summary>Vring state / descriptor index payload: <c>u32 index; u32 num</c> (8 bytes).</summary>
internal readonly record struct VhostUserVringState(uint Index, uint Num)
{
    /// <summary>Payload size.</summary>
    public const int Size = 8;

    /// <summary>Reads the payload.</summary>
    public static VhostUserVringState Read(ReadOnlySpan<byte> source)
        => new(BinaryPrimitives.ReadUInt32LittleEndian(source), BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(4)));

    /// <summary>Writes the payload.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Index);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(4), Num);
    }
}
