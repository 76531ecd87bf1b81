// SPDX-License-Identifier: MIT
using CsCheck;
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Device.Tests.Gpio.Codec;

public class GpioCodecProperties
{
    [Fact]
    public void AnyEightRequestBytesDecodeAndReencodeIdentically()
        => Gen.Byte.Array[8].Sample(bytes =>
        {
            Assert.True(GpioCodec.TryReadRequest(bytes, out GpioRequest request));
            byte[] back = new byte[8];
            Assert.True(GpioCodec.TryWriteRequest(back, request, out int written));
            Assert.Equal(8, written);
            Assert.Equal(bytes, back);
        });

    [Fact]
    public void AnyConfigRoundTripsAndPaddingIsAlwaysZero()
        => Gen.Select(Gen.UShort, Gen.UInt).Sample((lines, size) =>
        {
            byte[] buffer = { 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA };
            Assert.True(GpioCodec.TryWriteConfig(buffer, new GpioConfig(lines, size), out _));
            Assert.Equal(0, buffer[2]);
            Assert.Equal(0, buffer[3]);
            Assert.True(GpioCodec.TryReadConfig(buffer, out GpioConfig back));
            Assert.Equal(new GpioConfig(lines, size), back);
        });

    [Fact]
    public void ParsersAcceptExactlyTheSpecSetsForEveryLe32Value()
        => Gen.UInt.Sample(value =>
        {
            Assert.Equal(value is 0 or 1 or 2 or 3 or 4 or 8, GpioCodec.TryParseIrqType(value, out _));
            Assert.Equal(value <= 2, GpioCodec.TryParseDirection(value, out _));
            Assert.Equal(value <= 1, GpioCodec.TryParseLineValue(value, out _));
        });

    [Fact]
    public void ErrorResponsesNeverWritePastTheBuffer()
        => Gen.Select(Gen.Int[0, 64], Gen.Int[-2, 100]).Sample((length, valueLength) =>
        {
            byte[] buffer = new byte[length + 8];
            Array.Fill(buffer, (byte)0xAA);
            int written = GpioCodec.WriteErrorResponse(buffer.AsSpan(0, length), valueLength);
            Assert.InRange(written, 0, length);
            Assert.Equal(length == 0 ? 0 : Math.Min(length, 1 + Math.Max(0, valueLength)), written);
            Assert.All(buffer.Skip(written), b => Assert.Equal(0xAA, b));
        });

    [Fact]
    public void ValidNameListsAlwaysBuildABlockThatSplitsBackIntoTheNames()
        => Gen.String[Gen.Char['!', '~'], 0, 12].Array[1, 40].Sample(raw =>
        {
            // Make non-empty names unique by prefixing the index; keep some empty.
            string[] names = raw.Select((n, i) => n.Length == 0 ? string.Empty : i + ":" + n).ToArray();
            var built = new GpioLineNames(names);
            Assert.Equal((uint)names.Sum(n => n.Length + 1), built.BlockSize);
            byte[] block = built.Block.ToArray();
            Assert.Equal(0, block[^1]);
            Assert.Equal(names, System.Text.Encoding.ASCII.GetString(block, 0, block.Length - 1).Split('\0'));
        });
}
