// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Gpio.Draft;

namespace VirtioGpio.Device.Tests.Draft;

/// <summary>DRAFT.md §10 "Request/reply", tests 7–15: each case produces C0(len 8) → C1 → N1, in that order, and no N0.</summary>
public class DraftRequestReplyTests
{
    private static DraftDeviceHarness Started()
    {
        var h = new DraftDeviceHarness();
        h.PostRx(); // the probe's spare rx buffer
        return h;
    }

    [Fact]
    [Trait("Spec", "DRAFT-7")]
    public void GetDirectionOfAnInputAnswersOne()
        => Started().AssertRpc("04 00 00 00 00 00 00 00", "04 f0 00 00 01 00 00 00");

    [Fact]
    [Trait("Spec", "DRAFT-8")]
    public void RequestIsAnsweredZeroAndIsIdempotent()
    {
        var h = Started();
        h.AssertRpc("01 00 07 00 00 00 00 00", "01 f0 07 00 00 00 00 00");
        h.AssertRpc("01 00 07 00 00 00 00 00", "01 f0 07 00 00 00 00 00");
    }

    [Fact]
    [Trait("Spec", "DRAFT-9")]
    public void DirectionOutputDrivesTheLevelAndGetDirectionAnswersZero()
    {
        var h = Started();
        h.AssertRpc("03 00 00 00 01 00 00 00", "03 f0 00 00 00 00 00 00");
        Assert.Equal(GpioDirection.Output, h.Lines.Backend.GetDirection(0));
        Assert.Equal(LineValue.High, h.Lines.Backend.GetLevel(0));
        h.AssertRpc("04 00 00 00 00 00 00 00", "04 f0 00 00 00 00 00 00");
        h.AssertRpc("05 00 00 00 00 00 00 00", "05 f0 00 00 01 00 00 00");
    }

    [Fact]
    [Trait("Spec", "DRAFT-10")]
    public void SetValueOnAnOutputIsAnsweredZeroAndReadBack()
    {
        var h = Started();
        h.AssertRpc("03 00 00 00 01 00 00 00", "03 f0 00 00 00 00 00 00");
        h.AssertRpc("06 00 00 00 00 00 00 00", "06 f0 00 00 00 00 00 00");
        Assert.Equal(LineValue.Low, h.Lines.Backend.GetLevel(0));
        h.AssertRpc("05 00 00 00 00 00 00 00", "05 f0 00 00 00 00 00 00");
        h.AssertRpc("06 00 00 00 01 00 00 00", "06 f0 00 00 00 00 00 00"); // exactly 0 on success (B21)
        Assert.Equal(LineValue.High, h.Lines.Backend.GetLevel(0));
    }

    [Fact]
    [Trait("Spec", "DRAFT-11")]
    public void DirectionInputMakesGetDirectionAnswerOneAgain()
    {
        var h = Started();
        h.AssertRpc("03 00 00 00 01 00 00 00", "03 f0 00 00 00 00 00 00");
        h.AssertRpc("02 00 00 00 00 00 00 00", "02 f0 00 00 00 00 00 00");
        h.AssertRpc("04 00 00 00 00 00 00 00", "04 f0 00 00 01 00 00 00");
        Assert.Equal(GpioDirection.Input, h.Lines.Backend.GetDirection(0));

        // An input reads the host's level.
        h.Lines.Backend.SetInputLevel(0, LineValue.High);
        h.AssertRpc("05 00 00 00 00 00 00 00", "05 f0 00 00 01 00 00 00");
    }

    [Fact]
    [Trait("Spec", "DRAFT-12")]
    public void SetValueOnAnInputIsRefusedWithEpermButAnswered()
    {
        var h = Started();
        h.AssertRpc("06 00 02 00 01 00 00 00", "06 f0 02 00 ff ff ff ff");
        Assert.Equal(LineValue.Low, h.Lines.Backend.GetOutputValue(2));
    }

    [Fact]
    [Trait("Spec", "DRAFT-12")]
    public void SetValueOnAnInputCanBeAllowedByOption()
    {
        var options = DraftDeviceHarness.DefaultOptions();
        options.AllowSetValueOnInput = true;
        var h = new DraftDeviceHarness(options);
        h.PostRx();
        h.AssertRpc("06 00 02 00 01 00 00 00", "06 f0 02 00 00 00 00 00");
        Assert.Equal(LineValue.High, h.Lines.Backend.GetOutputValue(2));
        Assert.Equal(LineValue.Low, h.Lines.Backend.GetLevel(2)); // latched, not driven while input
        h.AssertRpc("06 00 02 00 02 00 00 00", "06 f0 02 00 ea ff ff ff"); // value > 1: -EINVAL
    }

    [Fact]
    [Trait("Spec", "DRAFT-13")]
    public void PinOutOfRangeIsEinval()
    {
        var h = Started();
        h.AssertRpc("05 00 08 00 00 00 00 00", "05 f0 08 00 ea ff ff ff");
        h.AssertRpc("03 00 ff ff 01 00 00 00", "03 f0 ff ff ea ff ff ff");
        h.AssertRpc("03 00 00 00 02 00 00 00", "03 f0 00 00 ea ff ff ff"); // DIRECTION_OUTPUT level > 1
    }

    [Fact]
    [Trait("Spec", "DRAFT-14")]
    public void UnknownTypeIsEopnotsuppAndNeverLooksLikeHostLevel()
    {
        var h = Started();
        h.AssertRpc("07 00 00 00 00 00 00 00", "07 f0 00 00 a1 ff ff ff");
        h.AssertRpc("00 00 00 00 00 00 00 00", "00 f0 00 00 a1 ff ff ff");
        // A guest-sent 0x11 gets 0xF011, which the driver does not take for HOST_LEVEL.
        h.AssertRpc("11 00 00 00 00 00 00 00", "11 f0 00 00 a1 ff ff ff");
        // A stripped type >= 64 would index past the driver's bitmap (B12): answered with the bare mask.
        h.AssertRpc("40 00 01 00 00 00 00 00", "00 f0 01 00 a1 ff ff ff");
    }

    [Theory]
    [Trait("Spec", "DRAFT-15")]
    [InlineData((ushort)0x8000, "04 80 00 00 01 00 00 00")]
    [InlineData((ushort)0x0000, "04 00 00 00 01 00 00 00")]
    [InlineData((ushort)0xF000, "04 f0 00 00 01 00 00 00")]
    public void ReplyMaskOption(ushort mask, string expected)
    {
        var options = DraftDeviceHarness.DefaultOptions();
        options.ReplyMask = mask;
        var h = new DraftDeviceHarness(options);
        h.PostRx();
        h.AssertRpc("04 00 00 00 00 00 00 00", expected);
    }

    [Fact]
    [Trait("Spec", "DRAFT-15")]
    public void WithMaskZeroAGuestTypeOf0x11IsNotEchoedAsHostLevel()
    {
        var options = DraftDeviceHarness.DefaultOptions();
        options.ReplyMask = 0;
        var h = new DraftDeviceHarness(options);
        h.PostRx();
        h.AssertRpc("11 00 00 00 00 00 00 00", "00 00 00 00 a1 ff ff ff");
    }

    [Fact]
    [Trait("Spec", "DRAFT-13")]
    public void AShortRequestIsStillAnsweredOnce()
    {
        var h = Started();
        h.ClearTrace();
        h.PostRx();
        h.AddTx(new byte[] { 0x05, 0x00, 0x01 });
        h.Device.NotifyQueue(1);
        Assert.Equal(new[] { "C0:8", "C1:0", "N1" }, h.Trace);
        Assert.Equal("05f00100eaffffff", h.TakeReplyHex());
    }
}
