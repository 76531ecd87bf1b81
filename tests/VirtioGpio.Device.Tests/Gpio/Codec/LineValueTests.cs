// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Device.Tests.Gpio.Codec;

public class LineValueTests
{
    [Fact]
    public void ConversionsAndEquality()
    {
        LineValue high = true;
        LineValue low = false;
        Assert.Equal(LineValue.High, high);
        Assert.Equal(LineValue.Low, low);
        Assert.Equal(LineValue.Low, default(LineValue));
        Assert.Equal(1, (byte)high);
        Assert.Equal(0, (byte)low);
        Assert.True((bool)high);
        Assert.True(high != low);
        Assert.Equal(low, high.Invert());
        Assert.Equal("High", high.ToString());
        Assert.Equal("Low", low.ToString());
        Assert.NotEqual(high.GetHashCode(), low.GetHashCode());
    }

    [Fact]
    public void LineValuePairCarriesNumberAndValue()
    {
        var p = new LineValuePair(3, LineValue.High);
        Assert.Equal(3, p.LineNumber);
        Assert.Equal(LineValue.High, p.Value);
    }
}
