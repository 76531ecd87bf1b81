// SPDX-License-Identifier: MIT
using System.Text;
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Device.Tests.Gpio.Codec;

public class GpioLineNamesTests
{
    [Trait("Spec", "STANDARD-5")]
    [Trait("Spec", "D4")]
    [Fact]
    public void SpecExampleOfTenLinesBuildsTheExact41ByteBlock()
    {
        var names = new GpioLineNames(new[] { "MMC-CD", "", "", "", "", "Red LED Vdd", "", "Ethernet reset", "", "" });
        byte[] expected = Convert.FromHexString(
            "4d4d432d434400" + "00000000" + "526564204c454420566464" + "00" + "00" +
            "45746865726e6574207265736574" + "00" + "0000");
        Assert.Equal(41, expected.Length);
        Assert.Equal(41u, names.BlockSize);
        Assert.Equal(expected, names.Block.ToArray());
        Assert.Equal(10, names.Count);
        Assert.Equal("Red LED Vdd", names[5]);
        Assert.Equal(string.Empty, names[1]);
        Assert.True(names.HasAnyName);
    }

    [Fact]
    public void NullAndEmptyNamesAreUnnamedAndMayRepeat()
    {
        var names = new GpioLineNames(new string?[] { null, "", null, "A" });
        Assert.Equal(new byte[] { 0, 0, 0, (byte)'A', 0 }, names.Block.ToArray());
        Assert.Equal(new[] { "", "", "", "A" }, names.ToArray());
    }

    [Fact]
    public void UnnamedBlockIsOneZeroPerLine()
    {
        var names = GpioLineNames.CreateUnnamed(8);
        Assert.Equal(8u, names.BlockSize);
        Assert.All(names.Block.ToArray(), b => Assert.Equal(0, b));
        Assert.False(names.HasAnyName);
        Assert.Throws<ArgumentOutOfRangeException>(() => GpioLineNames.CreateUnnamed(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => GpioLineNames.CreateUnnamed(65536));
    }

    [Theory]
    [InlineData("bad\0name")]
    [InlineData("caf\u00e9")]
    [InlineData("\u0080")]
    [InlineData("snow\u2603")]
    public void NonAsciiOrNulNamesAreRejected(string name)
    {
        var ex = Assert.Throws<ArgumentException>(() => new GpioLineNames(new[] { "ok", name }));
        Assert.Contains("Line 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateNonEmptyNamesAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new GpioLineNames(new[] { "LED", "", "LED" }));
        Assert.Contains("not unique", ex.Message, StringComparison.Ordinal);
        // Names differing only in case are distinct (byte-wise uniqueness).
        Assert.Equal(2, new GpioLineNames(new[] { "led", "LED" }).Count);
    }

    [Fact]
    public void NullListIsRejected()
        => Assert.Throws<ArgumentNullException>(() => new GpioLineNames(null!));

    [Fact]
    public void IndexerOutOfRangeThrows()
    {
        var names = GpioLineNames.CreateUnnamed(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => names[2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => names[-1]);
    }

    [Fact]
    public void BlockSizeIsSumOfLengthsPlusOneAndParsesBack()
    {
        var rng = new Random(1234);
        for (int round = 0; round < 200; round++)
        {
            int count = rng.Next(1, 40);
            var list = new List<string>();
            for (int i = 0; i < count; i++)
            {
                list.Add(rng.Next(3) == 0 ? string.Empty : $"L{i}-" + new string((char)rng.Next(0x20, 0x7F), rng.Next(0, 5)));
            }

            var names = new GpioLineNames(list);
            Assert.Equal((uint)list.Sum(n => n.Length + 1), names.BlockSize);
            // Exactly `count` terminators, and splitting gives the names back.
            byte[] block = names.Block.ToArray();
            Assert.Equal(count, block.Count(b => b == 0));
            string[] parsed = Encoding.ASCII.GetString(block, 0, block.Length - 1).Split('\0');
            Assert.Equal(list, parsed);
        }
    }
}
