// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace VirtioGpio.Device.Gpio;

/// <summary>
/// Zero-allocation encoders and decoders for the standard virtio-gpio wire structures (STANDARD.md §3, §4, §8),
/// plus the exact value-set checks for guest-supplied fields. Every member is <c>Try*</c>-shaped: nothing here
/// throws or allocates for guest input. All multi-byte fields are little-endian.
/// </summary>
/// <example>
/// <code>
/// Span&lt;byte&gt; request = stackalloc byte[GpioRequest.Size];
/// // ... gather the request bytes from the chain ...
/// if (GpioCodec.TryReadRequest(request, out GpioRequest r) &amp;&amp; r.Type == GpioMessageType.SetDirection
///     &amp;&amp; GpioCodec.TryParseDirection(r.Value, out GpioDirection d)) { /* ... */ }
/// Span&lt;byte&gt; response = stackalloc byte[GpioResponse.Size];
/// GpioCodec.TryWriteResponse(response, GpioStatus.Ok, 0, out int written);
/// </code>
/// </example>
public static class GpioCodec
{
    /// <summary>Decodes <c>virtio_gpio_config</c>.</summary>
    /// <param name="source">At least <see cref="GpioConfig.Size"/> bytes.</param>
    /// <param name="config">The decoded configuration (padding ignored).</param>
    /// <returns><see langword="false"/> when <paramref name="source"/> is too short.</returns>
    public static bool TryReadConfig(ReadOnlySpan<byte> source, out GpioConfig config)
    {
        if (source.Length < GpioConfig.Size)
        {
            config = default;
            return false;
        }

        config = new GpioConfig(
            BinaryPrimitives.ReadUInt16LittleEndian(source),
            BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(4)));
        return true;
    }

    /// <summary>Encodes <c>virtio_gpio_config</c>: <c>le16 ngpio</c>, two zero padding bytes (D2), <c>le32 gpio_names_size</c>.</summary>
    /// <param name="destination">At least <see cref="GpioConfig.Size"/> bytes.</param>
    /// <param name="config">The configuration.</param>
    /// <param name="bytesWritten">8 on success, 0 otherwise.</param>
    /// <returns><see langword="false"/> when <paramref name="destination"/> is too short (nothing written).</returns>
    public static bool TryWriteConfig(Span<byte> destination, in GpioConfig config, out int bytesWritten)
    {
        if (destination.Length < GpioConfig.Size)
        {
            bytesWritten = 0;
            return false;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(destination, config.LineCount);
        destination[2] = 0;
        destination[3] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(4), config.NamesSize);
        bytesWritten = GpioConfig.Size;
        return true;
    }

    /// <summary>Decodes <c>virtio_gpio_request</c> with one length check; extra bytes are ignored.</summary>
    /// <param name="source">At least <see cref="GpioRequest.Size"/> bytes (a copy of guest memory, never a live view).</param>
    /// <param name="request">The decoded, still unvalidated request.</param>
    /// <returns><see langword="false"/> when <paramref name="source"/> is shorter than 8 bytes (R2: reply ERR).</returns>
    public static bool TryReadRequest(ReadOnlySpan<byte> source, out GpioRequest request)
    {
        if (source.Length < GpioRequest.Size)
        {
            request = default;
            return false;
        }

        request = new GpioRequest(
            (GpioMessageType)BinaryPrimitives.ReadUInt16LittleEndian(source),
            BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(2)),
            BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(4)));
        return true;
    }

    /// <summary>Decodes <c>virtio_gpio_request</c> from its 8 bytes loaded in memory order into one integer (the device's hot path).</summary>
    /// <param name="wire">The 8 request bytes as they lie in memory.</param>
    /// <returns>The decoded, still unvalidated request.</returns>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static GpioRequest DecodeRequest(ulong wire)
    {
        // VIRTIO 1.3 §5.18.6 "Device Operation: requestq": le16 type; le16 gpio; le32 value.
        ulong bits = BitConverter.IsLittleEndian ? wire : BinaryPrimitives.ReverseEndianness(wire);
        return new GpioRequest((GpioMessageType)(ushort)bits, (ushort)(bits >> 16), (uint)(bits >> 32));
    }

    /// <summary>Encodes <c>virtio_gpio_request</c> (driver side: test kits, fuzzers, benchmarks).</summary>
    /// <param name="destination">At least <see cref="GpioRequest.Size"/> bytes.</param>
    /// <param name="request">The request.</param>
    /// <param name="bytesWritten">8 on success, 0 otherwise.</param>
    /// <returns><see langword="false"/> when <paramref name="destination"/> is too short.</returns>
    public static bool TryWriteRequest(Span<byte> destination, in GpioRequest request, out int bytesWritten)
    {
        if (destination.Length < GpioRequest.Size)
        {
            bytesWritten = 0;
            return false;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)request.Type);
        BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(2), request.Line);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(4), request.Value);
        bytesWritten = GpioRequest.Size;
        return true;
    }

    /// <summary>Decodes a 2-byte <c>virtio_gpio_response</c> (driver side).</summary>
    /// <param name="source">At least <see cref="GpioResponse.Size"/> bytes.</param>
    /// <param name="response">The decoded response.</param>
    /// <returns><see langword="false"/> when <paramref name="source"/> is too short.</returns>
    public static bool TryReadResponse(ReadOnlySpan<byte> source, out GpioResponse response)
    {
        if (source.Length < GpioResponse.Size)
        {
            response = default;
            return false;
        }

        response = new GpioResponse((GpioStatus)source[0], source[1]);
        return true;
    }

    /// <summary>Encodes a 2-byte <c>virtio_gpio_response</c> in the BCL <c>TryFormat</c> shape.</summary>
    /// <param name="destination">At least <see cref="GpioResponse.Size"/> bytes.</param>
    /// <param name="status">The status.</param>
    /// <param name="value">The value byte; pass 0 with <see cref="GpioStatus.Err"/> (D1).</param>
    /// <param name="bytesWritten">2 on success, 0 otherwise.</param>
    /// <returns><see langword="false"/> when <paramref name="destination"/> is too short (nothing written).</returns>
    public static bool TryWriteResponse(Span<byte> destination, GpioStatus status, byte value, out int bytesWritten)
    {
        if (destination.Length < GpioResponse.Size)
        {
            bytesWritten = 0;
            return false;
        }

        destination[0] = (byte)status;
        destination[1] = value;
        bytesWritten = GpioResponse.Size;
        return true;
    }

    /// <summary>Encodes a 2-byte <c>virtio_gpio_response</c>.</summary>
    /// <param name="destination">At least <see cref="GpioResponse.Size"/> bytes.</param>
    /// <param name="response">The response.</param>
    /// <param name="bytesWritten">2 on success, 0 otherwise.</param>
    /// <returns><see langword="false"/> when <paramref name="destination"/> is too short (nothing written).</returns>
    public static bool TryWriteResponse(Span<byte> destination, in GpioResponse response, out int bytesWritten)
        => TryWriteResponse(destination, response.Status, response.Value, out bytesWritten);

    /// <summary>Encodes a successful <c>virtio_gpio_response_N</c>: status OK followed by the names block.</summary>
    /// <param name="destination">At least <c>1 + namesBlock.Length</c> bytes.</param>
    /// <param name="namesBlock">The block, e.g. <see cref="GpioLineNames.Block"/>.</param>
    /// <param name="bytesWritten"><c>1 + namesBlock.Length</c> on success, 0 otherwise.</param>
    /// <returns><see langword="false"/> when <paramref name="destination"/> is too short (nothing written).</returns>
    public static bool TryWriteLineNamesResponse(Span<byte> destination, ReadOnlySpan<byte> namesBlock, out int bytesWritten)
    {
        if (destination.Length - 1 < namesBlock.Length)
        {
            bytesWritten = 0;
            return false;
        }

        destination[0] = (byte)GpioStatus.Ok;
        namesBlock.CopyTo(destination.Slice(1));
        bytesWritten = 1 + namesBlock.Length;
        return true;
    }

    /// <summary>
    /// Writes a failure response that fits: <see cref="GpioStatus.Err"/> first, then zeros for the value byte(s),
    /// never past the end of <paramref name="destination"/> (STANDARD.md §4.4: "write what fits (status ERR first,
    /// then zeros)").
    /// </summary>
    /// <param name="destination">The writable bytes (may be empty or short).</param>
    /// <param name="valueLength">Number of value bytes of the full response: 1, or N for GET_LINE_NAMES. Negative counts as 0.</param>
    /// <returns>Bytes written: <c>min(destination.Length, 1 + valueLength)</c>; the used length to report.</returns>
    public static int WriteErrorResponse(Span<byte> destination, int valueLength)
    {
        if (destination.IsEmpty)
        {
            return 0;
        }

        long full = 1L + (valueLength < 0 ? 0 : valueLength);
        int count = full < destination.Length ? (int)full : destination.Length;
        destination[0] = (byte)GpioStatus.Err;
        destination.Slice(1, count - 1).Clear();
        return count;
    }

    /// <summary>Decodes <c>virtio_gpio_irq_request</c>.</summary>
    /// <param name="source">At least <see cref="GpioIrqRequest.Size"/> bytes.</param>
    /// <param name="request">The decoded, still unvalidated request.</param>
    /// <returns><see langword="false"/> when <paramref name="source"/> is shorter than 2 bytes.</returns>
    public static bool TryReadIrqRequest(ReadOnlySpan<byte> source, out GpioIrqRequest request)
    {
        if (source.Length < GpioIrqRequest.Size)
        {
            request = default;
            return false;
        }

        request = new GpioIrqRequest(BinaryPrimitives.ReadUInt16LittleEndian(source));
        return true;
    }

    /// <summary>Encodes <c>virtio_gpio_irq_request</c> (driver side).</summary>
    /// <param name="destination">At least <see cref="GpioIrqRequest.Size"/> bytes.</param>
    /// <param name="request">The request.</param>
    /// <param name="bytesWritten">2 on success, 0 otherwise.</param>
    /// <returns><see langword="false"/> when <paramref name="destination"/> is too short.</returns>
    public static bool TryWriteIrqRequest(Span<byte> destination, in GpioIrqRequest request, out int bytesWritten)
    {
        if (destination.Length < GpioIrqRequest.Size)
        {
            bytesWritten = 0;
            return false;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(destination, request.Line);
        bytesWritten = GpioIrqRequest.Size;
        return true;
    }

    /// <summary>Decodes <c>virtio_gpio_irq_response</c> (driver side).</summary>
    /// <param name="source">At least 1 byte.</param>
    /// <param name="response">The decoded response.</param>
    /// <returns><see langword="false"/> when <paramref name="source"/> is empty.</returns>
    public static bool TryReadIrqResponse(ReadOnlySpan<byte> source, out GpioIrqResponse response)
    {
        if (source.Length < GpioIrqResponse.Size)
        {
            response = default;
            return false;
        }

        response = new GpioIrqResponse((GpioIrqStatus)source[0]);
        return true;
    }

    /// <summary>Encodes <c>virtio_gpio_irq_response</c>.</summary>
    /// <param name="destination">At least 1 byte.</param>
    /// <param name="status">The status.</param>
    /// <param name="bytesWritten">1 on success, 0 otherwise.</param>
    /// <returns><see langword="false"/> when <paramref name="destination"/> is empty.</returns>
    public static bool TryWriteIrqResponse(Span<byte> destination, GpioIrqStatus status, out int bytesWritten)
    {
        if (destination.Length < GpioIrqResponse.Size)
        {
            bytesWritten = 0;
            return false;
        }

        destination[0] = (byte)status;
        bytesWritten = GpioIrqResponse.Size;
        return true;
    }

    /// <summary>Whether <paramref name="type"/> is one of the six message types of STANDARD.md §4.2.</summary>
    /// <param name="type">The guest's <c>type</c> field.</param>
    /// <returns><see langword="true"/> for 1..6.</returns>
    public static bool IsKnownMessageType(GpioMessageType type)
        => type >= GpioMessageType.GetLineNames && type <= GpioMessageType.SetIrqType;

    /// <summary>Parses a <c>SET_DIRECTION</c> value: exactly {0, 1, 2} of the full le32 (no truncation; 0x101 is invalid).</summary>
    /// <param name="value">The request's <c>value</c>.</param>
    /// <param name="direction">The direction when valid.</param>
    /// <returns><see langword="false"/> for any other value.</returns>
    public static bool TryParseDirection(uint value, out GpioDirection direction)
    {
        if (value <= (uint)GpioDirection.Input)
        {
            direction = (GpioDirection)value;
            return true;
        }

        direction = GpioDirection.None;
        return false;
    }

    /// <summary>Parses a <c>SET_IRQ_TYPE</c> value: exactly one of {0x00, 0x01, 0x02, 0x03, 0x04, 0x08} of the full le32 (STANDARD.md §4.3).</summary>
    /// <param name="value">The request's <c>value</c>.</param>
    /// <param name="irqType">The type when valid.</param>
    /// <returns><see langword="false"/> for 0x05–0x07, 0x09 and above.</returns>
    public static bool TryParseIrqType(uint value, out GpioIrqType irqType)
    {
        if (IsValidIrqType(value))
        {
            irqType = (GpioIrqType)value;
            return true;
        }

        irqType = GpioIrqType.None;
        return false;
    }

    /// <summary>Whether <paramref name="value"/> is exactly one of the six IRQ type codes {0, 1, 2, 3, 4, 8}.</summary>
    /// <param name="value">The guest value.</param>
    /// <returns>Whether the value is valid.</returns>
    public static bool IsValidIrqType(uint value) => value <= 4 || value == 8;

    /// <summary>Parses a <c>SET_VALUE</c> value: exactly {0, 1} of the full le32.</summary>
    /// <param name="value">The request's <c>value</c>.</param>
    /// <param name="level">The level when valid.</param>
    /// <returns><see langword="false"/> for any value above 1.</returns>
    public static bool TryParseLineValue(uint value, out LineValue level)
    {
        if (value <= 1)
        {
            level = value == 1;
            return true;
        }

        level = LineValue.Low;
        return false;
    }
}
