// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Device.Tests.Gpio.Codec;

public class GpioCodecTests
{
    private static byte[] Hex(string hex)
        => hex.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(h => Convert.ToByte(h, 16)).ToArray();

    [Fact]
    public void EnumValuesEqualSpecConstants()
    {
        Assert.Equal(1, (ushort)GpioMessageType.GetLineNames);
        Assert.Equal(2, (ushort)GpioMessageType.GetDirection);
        Assert.Equal(3, (ushort)GpioMessageType.SetDirection);
        Assert.Equal(4, (ushort)GpioMessageType.GetValue);
        Assert.Equal(5, (ushort)GpioMessageType.SetValue);
        Assert.Equal(6, (ushort)GpioMessageType.SetIrqType);
        Assert.Equal(new byte[] { 0, 1, 2 }, new[] { GpioDirection.None, GpioDirection.Output, GpioDirection.Input }.Select(d => (byte)d));
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4, 8 }, new[] { GpioIrqType.None, GpioIrqType.EdgeRising, GpioIrqType.EdgeFalling, GpioIrqType.EdgeBoth, GpioIrqType.LevelHigh, GpioIrqType.LevelLow }.Select(t => (byte)t));
        Assert.Equal(0, (byte)GpioStatus.Ok);
        Assert.Equal(1, (byte)GpioStatus.Err);
        Assert.Equal(0, (byte)GpioIrqStatus.Invalid);
        Assert.Equal(1, (byte)GpioIrqStatus.Valid);
        Assert.Equal(1UL, GpioFeatures.Irq);
        Assert.Equal((int)LineEventTypes.Rising, (int)GpioIrqType.EdgeRising);
        Assert.Equal((int)LineEventTypes.Falling, (int)GpioIrqType.EdgeFalling);
    }

    // STANDARD.md §4.2 wire examples: request bytes decode to the documented fields and re-encode byte-exactly.
    [Theory]
    [Trait("Spec", "STANDARD-4.2")]
    [InlineData("02 00 03 00 00 00 00 00", GpioMessageType.GetDirection, 3, 0u)]
    [InlineData("05 00 03 00 01 00 00 00", GpioMessageType.SetValue, 3, 1u)]
    [InlineData("03 00 03 00 01 00 00 00", GpioMessageType.SetDirection, 3, 1u)]
    [InlineData("04 00 05 00 00 00 00 00", GpioMessageType.GetValue, 5, 0u)]
    [InlineData("06 00 07 00 03 00 00 00", GpioMessageType.SetIrqType, 7, 3u)]
    [InlineData("01 00 00 00 00 00 00 00", GpioMessageType.GetLineNames, 0, 0u)]
    public void RequestWireExamplesRoundTrip(string hex, GpioMessageType type, ushort line, uint value)
    {
        byte[] bytes = Hex(hex);
        Assert.True(GpioCodec.TryReadRequest(bytes, out GpioRequest request));
        Assert.Equal(new GpioRequest(type, line, value), request);

        Span<byte> encoded = stackalloc byte[GpioRequest.Size];
        Assert.True(GpioCodec.TryWriteRequest(encoded, request, out int written));
        Assert.Equal(8, written);
        Assert.Equal(bytes, encoded.ToArray());
    }

    [Theory]
    [Trait("Spec", "STANDARD-4.2")]
    [InlineData(GpioStatus.Ok, 2, "00 02")] // GET_DIRECTION line 3 (input)
    [InlineData(GpioStatus.Ok, 0, "00 00")] // SET_VALUE / SET_DIRECTION / SET_IRQ_TYPE
    [InlineData(GpioStatus.Ok, 1, "00 01")] // GET_VALUE line 5 (high)
    [InlineData(GpioStatus.Err, 0, "01 00")] // any failure
    public void ResponseWireExamplesRoundTrip(GpioStatus status, byte value, string hex)
    {
        Span<byte> buffer = stackalloc byte[4];
        buffer.Fill(0xAA);
        Assert.True(GpioCodec.TryWriteResponse(buffer, status, value, out int written));
        Assert.Equal(2, written);
        Assert.Equal(Hex(hex), buffer.Slice(0, written).ToArray());
        Assert.Equal(0xAA, buffer[2]); // nothing past the response
        Assert.True(GpioCodec.TryReadResponse(buffer, out GpioResponse decoded));
        Assert.Equal(new GpioResponse(status, value), decoded);
    }

    [Fact]
    public void ErrorResponseConstantIsStatusErrValueZero()
    {
        Span<byte> buffer = stackalloc byte[2];
        Assert.True(GpioCodec.TryWriteResponse(buffer, GpioResponse.Error, out _));
        Assert.Equal(new byte[] { 1, 0 }, buffer.ToArray());
    }

    [Fact]
    public void ShortBuffersAreRejectedWithoutWriting()
    {
        Span<byte> seven = stackalloc byte[7];
        seven.Fill(0xAA);
        Assert.False(GpioCodec.TryReadRequest(seven, out _));
        Assert.False(GpioCodec.TryWriteRequest(seven, new GpioRequest(GpioMessageType.GetValue, 1, 0), out int w1));
        Assert.False(GpioCodec.TryWriteConfig(seven, new GpioConfig(1, 0), out int w2));
        Assert.False(GpioCodec.TryReadConfig(seven, out _));
        Assert.False(GpioCodec.TryWriteResponse(seven.Slice(0, 1), GpioStatus.Ok, 1, out int w3));
        Assert.False(GpioCodec.TryReadResponse(seven.Slice(0, 1), out _));
        Assert.False(GpioCodec.TryReadIrqRequest(seven.Slice(0, 1), out _));
        Assert.False(GpioCodec.TryWriteIrqRequest(seven.Slice(0, 1), new GpioIrqRequest(1), out int w4));
        Assert.False(GpioCodec.TryWriteIrqResponse(Span<byte>.Empty, GpioIrqStatus.Valid, out int w5));
        Assert.False(GpioCodec.TryReadIrqResponse(ReadOnlySpan<byte>.Empty, out _));
        Assert.Equal(0, w1 + w2 + w3 + w4 + w5);
        Assert.All(seven.ToArray(), b => Assert.Equal(0xAA, b));
    }

    [Fact]
    public void RequestReadIgnoresBytesBeyondEight()
    {
        byte[] bytes = Hex("04 00 05 00 00 00 00 00 ff ff");
        Assert.True(GpioCodec.TryReadRequest(bytes, out GpioRequest r));
        Assert.Equal(new GpioRequest(GpioMessageType.GetValue, 5, 0), r);
    }

    [Fact]
    public void RequestFieldsAreLittleEndianAndNeverTruncated()
    {
        byte[] bytes = Hex("34 12 cd ab 01 01 00 80");
        Assert.True(GpioCodec.TryReadRequest(bytes, out GpioRequest r));
        Assert.Equal((GpioMessageType)0x1234, r.Type);
        Assert.False(GpioCodec.IsKnownMessageType(r.Type));
        Assert.Equal(0xABCD, r.Line);
        Assert.Equal(0x80000101u, r.Value);
        Assert.False(GpioCodec.TryParseDirection(r.Value, out _));
    }

    [Trait("Spec", "D2")]
    [Fact]
    public void ConfigEncodesNgpioZeroPaddingAndNamesSize()
    {
        Span<byte> buffer = stackalloc byte[8];
        buffer.Fill(0xAA);
        Assert.True(GpioCodec.TryWriteConfig(buffer, new GpioConfig(10, 41), out int written));
        Assert.Equal(8, written);
        Assert.Equal(Hex("0a 00 00 00 29 00 00 00"), buffer.ToArray());
        Assert.True(GpioCodec.TryReadConfig(buffer, out GpioConfig back));
        Assert.Equal(new GpioConfig(10, 41), back);

        Assert.True(GpioCodec.TryWriteConfig(buffer, new GpioConfig(0xFFFF, 0xDEADBEEF), out _));
        Assert.Equal(Hex("ff ff 00 00 ef be ad de"), buffer.ToArray());
    }

    [Fact]
    public void IrqStructuresRoundTrip()
    {
        // STANDARD.md §8: request 07 00 (line 7), response 01 (VALID).
        Span<byte> req = stackalloc byte[2];
        Assert.True(GpioCodec.TryWriteIrqRequest(req, new GpioIrqRequest(7), out int w));
        Assert.Equal(2, w);
        Assert.Equal(Hex("07 00"), req.ToArray());
        Assert.True(GpioCodec.TryReadIrqRequest(req, out GpioIrqRequest r));
        Assert.Equal(7, r.Line);

        Span<byte> resp = stackalloc byte[3];
        resp.Fill(0xAA);
        Assert.True(GpioCodec.TryWriteIrqResponse(resp, GpioIrqStatus.Valid, out w));
        Assert.Equal(1, w);
        Assert.Equal(Hex("01 aa aa"), resp.ToArray());
        Assert.True(GpioCodec.TryReadIrqResponse(resp, out GpioIrqResponse ir));
        Assert.Equal(GpioIrqStatus.Valid, ir.Status);
        Assert.True(GpioCodec.TryWriteIrqResponse(resp, GpioIrqStatus.Invalid, out _));
        Assert.Equal(0, resp[0]);
    }

    [Theory]
    [InlineData(0u, true)]
    [InlineData(1u, true)]
    [InlineData(2u, true)]
    [InlineData(3u, true)]
    [InlineData(4u, true)]
    [InlineData(5u, false)]
    [InlineData(6u, false)]
    [InlineData(7u, false)]
    [InlineData(8u, true)]
    [InlineData(9u, false)]
    [InlineData(0x0Cu, false)]
    [InlineData(0x0Fu, false)]
    [InlineData(0x10u, false)]
    [InlineData(0x101u, false)] // no truncation to a byte
    [InlineData(0x108u, false)]
    [InlineData(uint.MaxValue, false)]
    public void IrqTypeAcceptsExactlyTheSixSpecValues(uint value, bool valid)
    {
        Assert.Equal(valid, GpioCodec.IsValidIrqType(value));
        Assert.Equal(valid, GpioCodec.TryParseIrqType(value, out GpioIrqType t));
        Assert.Equal(valid ? (GpioIrqType)value : GpioIrqType.None, t);
    }

    [Fact]
    public void IrqTypeValidSetIsExactlyZeroToFourAndEight()
    {
        var valid = Enumerable.Range(0, 0x200).Where(v => GpioCodec.IsValidIrqType((uint)v)).ToArray();
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 8 }, valid);
    }

    [Theory]
    [InlineData(0u, true)]
    [InlineData(1u, true)]
    [InlineData(2u, true)]
    [InlineData(3u, false)]
    [InlineData(0x101u, false)] // "0x101 is not out"
    [InlineData(0x102u, false)]
    [InlineData(uint.MaxValue, false)]
    public void DirectionAcceptsExactlyNoneOutIn(uint value, bool valid)
    {
        Assert.Equal(valid, GpioCodec.TryParseDirection(value, out GpioDirection d));
        Assert.Equal(valid ? (GpioDirection)value : GpioDirection.None, d);
    }

    [Theory]
    [InlineData(0u, true, false)]
    [InlineData(1u, true, true)]
    [InlineData(2u, false, false)]
    [InlineData(0x100u, false, false)]
    [InlineData(0x101u, false, false)]
    public void LineValueAcceptsExactlyZeroAndOne(uint value, bool valid, bool high)
    {
        Assert.Equal(valid, GpioCodec.TryParseLineValue(value, out LineValue level));
        Assert.Equal(high, level.IsHigh);
    }

    [Fact]
    public void KnownMessageTypesAreOneToSix()
    {
        var known = Enumerable.Range(0, 0x10000).Where(v => GpioCodec.IsKnownMessageType((GpioMessageType)v)).ToArray();
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6 }, known);
    }

    [Trait("Spec", "STANDARD-5")]
    [Fact]
    public void LineNamesResponseIsStatusOkFollowedByBlock()
    {
        var names = new GpioLineNames(new[] { "MMC-CD", "", "", "", "", "Red LED Vdd", "", "Ethernet reset", "", "" });
        byte[] dest = new byte[1 + names.BlockSize + 3];
        Array.Fill(dest, (byte)0xAA);
        Assert.True(GpioCodec.TryWriteLineNamesResponse(dest, names.Block, out int written));
        Assert.Equal(42, written);
        Assert.Equal(0, dest[0]);
        Assert.Equal(names.Block.ToArray(), dest.AsSpan(1, 41).ToArray());
        Assert.Equal(0xAA, dest[42]);

        Assert.False(GpioCodec.TryWriteLineNamesResponse(dest.AsSpan(0, 41), names.Block, out written));
        Assert.Equal(0, written);
    }

    [Trait("Spec", "D1")]
    [Theory]
    [InlineData(0, 1, 0)]
    [InlineData(1, 1, 1)]
    [InlineData(2, 1, 2)]
    [InlineData(5, 1, 2)]
    [InlineData(10, 41, 10)]
    [InlineData(60, 41, 42)]
    [InlineData(3, 0, 1)]
    [InlineData(3, -5, 1)]
    public void ErrorResponseWritesStatusErrThenZerosNeverPastTheBuffer(int bufferLength, int valueLength, int expected)
    {
        byte[] buffer = new byte[bufferLength + 4];
        Array.Fill(buffer, (byte)0xAA);
        int written = GpioCodec.WriteErrorResponse(buffer.AsSpan(0, bufferLength), valueLength);
        Assert.Equal(expected, written);
        if (written > 0)
        {
            Assert.Equal(1, buffer[0]);
            Assert.All(buffer.Skip(1).Take(written - 1), b => Assert.Equal(0, b));
        }

        Assert.All(buffer.Skip(written), b => Assert.Equal(0xAA, b));
    }

    [Fact]
    public void CodecDoesNotAllocate()
    {
        byte[] req = Hex("06 00 07 00 03 00 00 00");
        byte[] dest = new byte[64];
        // Warm up.
        RoundTrip(req, dest);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            RoundTrip(req, dest);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        static void RoundTrip(byte[] req, byte[] dest)
        {
            GpioCodec.TryReadRequest(req, out GpioRequest r);
            GpioCodec.TryParseIrqType(r.Value, out _);
            GpioCodec.TryWriteResponse(dest, GpioStatus.Ok, 0, out _);
            GpioCodec.WriteErrorResponse(dest, 41);
            GpioCodec.TryWriteConfig(dest, new GpioConfig(8, 0), out _);
        }
    }

    [Fact]
    public void IrqTypeSemantics()
    {
        Assert.True(GpioIrqType.EdgeRising.MatchesEdge(LineValue.Low, LineValue.High));
        Assert.False(GpioIrqType.EdgeRising.MatchesEdge(LineValue.High, LineValue.Low));
        Assert.True(GpioIrqType.EdgeFalling.MatchesEdge(LineValue.High, LineValue.Low));
        Assert.True(GpioIrqType.EdgeBoth.MatchesEdge(LineValue.High, LineValue.Low));
        Assert.True(GpioIrqType.EdgeBoth.MatchesEdge(LineValue.Low, LineValue.High));
        Assert.False(GpioIrqType.EdgeBoth.MatchesEdge(LineValue.High, LineValue.High));
        Assert.False(GpioIrqType.LevelHigh.MatchesEdge(LineValue.Low, LineValue.High));
        Assert.True(GpioIrqType.LevelHigh.IsLevelActive(LineValue.High));
        Assert.False(GpioIrqType.LevelHigh.IsLevelActive(LineValue.Low));
        Assert.True(GpioIrqType.LevelLow.IsLevelActive(LineValue.Low));
        Assert.False(GpioIrqType.EdgeBoth.IsLevelActive(LineValue.High));
        Assert.True(GpioIrqType.EdgeBoth.IsEdge());
        Assert.False(GpioIrqType.None.IsEdge());
        Assert.True(GpioIrqType.LevelLow.IsLevel());
        Assert.False(GpioIrqType.EdgeFalling.IsLevel());
    }
}
