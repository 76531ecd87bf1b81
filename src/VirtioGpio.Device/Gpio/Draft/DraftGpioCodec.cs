// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace VirtioGpio.Device.Gpio.Draft;

/// <summary>
/// Zero-allocation codec for the 8-byte draft message (DRAFT.md §4.1). Little-endian only (DRAFT.md B15).
/// Nothing here throws or allocates for guest input.
/// </summary>
public static class DraftGpioCodec
{
    /// <summary>Decodes a message.</summary>
    /// <param name="source">At least <see cref="DraftGpioMessage.Size"/> bytes (a copy of guest memory).</param>
    /// <param name="message">The decoded, unvalidated message.</param>
    /// <returns><see langword="false"/> when <paramref name="source"/> is shorter than 8 bytes.</returns>
    public static bool TryRead(ReadOnlySpan<byte> source, out DraftGpioMessage message)
    {
        if (source.Length < DraftGpioMessage.Size)
        {
            message = default;
            return false;
        }

        message = new DraftGpioMessage(
            BinaryPrimitives.ReadUInt16LittleEndian(source),
            BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(2)),
            BinaryPrimitives.ReadInt32LittleEndian(source.Slice(4)));
        return true;
    }

    /// <summary>Encodes a message.</summary>
    /// <param name="destination">At least <see cref="DraftGpioMessage.Size"/> bytes.</param>
    /// <param name="message">The message.</param>
    /// <param name="bytesWritten">8 on success, 0 otherwise.</param>
    /// <returns><see langword="false"/> when <paramref name="destination"/> is too short (nothing written).</returns>
    public static bool TryWrite(Span<byte> destination, in DraftGpioMessage message, out int bytesWritten)
    {
        if (destination.Length < DraftGpioMessage.Size)
        {
            bytesWritten = 0;
            return false;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(destination, message.RawType);
        BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(2), message.Pin);
        BinaryPrimitives.WriteInt32LittleEndian(destination.Slice(4), message.Value);
        bytesWritten = DraftGpioMessage.Size;
        return true;
    }
}
