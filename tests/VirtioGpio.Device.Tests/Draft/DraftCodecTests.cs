// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio.Draft;

namespace VirtioGpio.Device.Tests.Draft;

public class DraftCodecTests
{
    [Fact]
    public void MessageRoundTripsLittleEndianWithSignedValues()
    {
        byte[] wire = DraftDeviceHarness.Hex("05 f0 08 00 ea ff ff ff");
        Assert.True(DraftGpioCodec.TryRead(wire, out DraftGpioMessage m));
        Assert.Equal(0xF005, m.RawType);
        Assert.Equal(DraftGpioMessageType.GetValue, m.Type);
        Assert.Equal(8, m.Pin);
        Assert.Equal(-22, m.Value);
        byte[] back = new byte[8];
        Assert.True(DraftGpioCodec.TryWrite(back, m, out int written));
        Assert.Equal(8, written);
        Assert.Equal(wire, back);
        Assert.False(DraftGpioCodec.TryRead(wire.AsSpan(0, 7), out _));
        Assert.False(DraftGpioCodec.TryWrite(back.AsSpan(0, 7), m, out written));
        Assert.Equal(0, written);
    }

    [Fact]
    public void TypeValuesEqualTheDraftHeader()
    {
        Assert.Equal(new ushort[] { 1, 2, 3, 4, 5, 6, 0x11 }, Enum.GetValues<DraftGpioMessageType>().Select(t => (ushort)t));
        Assert.Equal(0xF000, DraftVirtioGpioDeviceOptions.DefaultReplyMask);
        Assert.Equal(30u, DraftVirtioGpioDeviceOptions.DefaultDeviceId);
    }
}
