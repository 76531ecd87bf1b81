// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Testing;
using static VirtioGpio.Device.Tests.Conformance.GpioHarness;

namespace VirtioGpio.Device.Tests.Conformance;

/// <summary>STANDARD.md §7.2: the softer rules S1–S7.</summary>
public class SofterRuleTests
{
    [Fact]
    [Trait("Spec", "S1")]
    public void S1_StatusIsOkOnSuccessAndErrOnFailure()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetValue(0, 1));
        Err(h.Driver.SetValue(0, 2));
        Ok(h.Driver.SetDirection(0, DirIn));
        Err(h.Driver.SetDirection(0, 3));
        Ok(h.Driver.GetDirection(0));
        Err(h.Driver.GetDirection(8));
        Err(h.Driver.SendRequest(0x0007, 0, 0));
        Err(h.Driver.SendRequest(0x0000, 0, 0));
    }

    [Fact]
    [Trait("Spec", "S2")]
    public void S2_ValueSetBeforeOutputIsDrivenWhenTheLineBecomesOutput()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(3, DirIn));
        Ok(h.Driver.SetValue(3, 1)); // accepted on an input line
        Assert.Equal(LineValue.Low, h.Lines.GetLevel(3)); // not driven yet

        Ok(h.Driver.SetDirection(3, DirOut));
        Assert.Equal(LineValue.High, h.Lines.GetLevel(3));
        Assert.Equal(1, Ok(h.Driver.GetValue(3)).Value);

        // Linux direction_output(v): SET_VALUE then SET_DIRECTION(OUT), on a NONE line.
        Ok(h.Driver.DirectionOutput(4, 1));
        Assert.Equal(LineValue.High, h.Lines.GetLevel(4));
    }

    [Fact]
    [Trait("Spec", "S3")]
    public void S3_EdgeLatchesFromEnableLevelNotifiesWhenSensedAndUnmaskedDisableDiscards()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(1, DirIn));

        // Before enable nothing is latched.
        h.Lines.Toggle(1);
        Ok(h.Driver.SetIrqType(1, EdgeBoth));
        h.Driver.ArmIrq(1);
        Assert.Null(h.TakeIrq());

        // Edge while unmasked → VALID.
        h.Lines.Toggle(1);
        Valid(h.TakeIrq(), 1);

        // Level: notify once sensed and unmasked.
        Ok(h.Driver.SetDirection(2, DirIn));
        Ok(h.Driver.SetIrqType(2, LevelLow)); // the line rests low: active
        h.Driver.ArmIrq(2);
        Valid(h.TakeIrq(), 2);

        // Disable discards a latched edge.
        h.Lines.Toggle(1); // masked: latched
        Ok(h.Driver.SetIrqType(1, IrqNone));
        Ok(h.Driver.SetIrqType(1, EdgeBoth));
        h.Driver.ArmIrq(1);
        Assert.Null(h.TakeIrq());
    }

    [Fact]
    [Trait("Spec", "S4")]
    public void S4_StrictOptionReturnsUnarmedPairsInvalidDefaultHoldsThem()
    {
        using (GpioHarness strict = Create(configure: o => o.StrictUnarmedEventPairs = true))
        {
            Ok(strict.Driver.SetDirection(0, DirIn));
            strict.Driver.ArmIrq(0); // "unmasked without being enabled first"
            Invalid(strict.TakeIrq(), 0);
        }

        // Default (STANDARD.md §6.1 library default): hold until enabled, then it is armed.
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(0, DirIn));
        h.Driver.ArmIrq(0);
        Assert.Null(h.TakeIrq());
        Ok(h.Driver.SetIrqType(0, EdgeRising));
        h.Lines.SetInputLevel(0, LineValue.High);
        Valid(h.TakeIrq(), 0);
    }

    [Fact]
    [Trait("Spec", "S5")]
    public void S5_MissingNamesAreSingleZeroBytes()
    {
        using GpioHarness h = Create(configure: o => o.LineNames = new GpioLineNames(new[] { string.Empty, "RESET", string.Empty }));
        GpioCompletion c = h.Driver.GetLineNames();
        Assert.Equal(1u + 1 + 6 + 1, c.UsedLength);
        Assert.Equal(new byte[] { 0, (byte)'R', (byte)'E', (byte)'S', (byte)'E', (byte)'T', 0, 0 }, c.Payload.ToArray());

        // Duplicate or non-ASCII names are refused when the device is built, not sent to a guest.
        Assert.Throws<ArgumentException>(() => new GpioLineNames(new[] { "A", "A" }));
        Assert.Throws<ArgumentException>(() => new GpioLineNames(new[] { "Ä" }));
    }

    [Fact]
    [Trait("Spec", "S6")]
    public void S6_NamesSizeIsNonZeroExactlyWhenNamesAreSupported()
    {
        var names = new GpioLineNames(new[] { "A", "B" });
        using (GpioHarness with = Create(configure: o => o.LineNames = names))
        {
            Assert.Equal(4u, with.Driver.Config.NamesSize);
            GpioCompletion c = with.Driver.GetLineNames();
            Assert.Equal(5u, c.UsedLength);
            Assert.Equal(0, c.Status);
        }

        using (GpioHarness without = Create(configure: o => { o.LineNames = names; o.ExposeLineNames = false; }))
        {
            Assert.Equal(0u, without.Driver.Config.NamesSize);
            Err(without.Driver.SendRequest(GetLineNames, 0, 0, 2));
        }
    }

    [Fact]
    [Trait("Spec", "S7")]
    public void S7_ReNotifyAfterReUnmaskWhileLevelActiveOrEdgeLatched()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(5, DirIn));
        Ok(h.Driver.SetIrqType(5, LevelHigh));
        h.Driver.ArmIrq(5);
        Assert.Null(h.TakeIrq());
        h.Lines.SetInputLevel(5, LineValue.High);
        Valid(h.TakeIrq(), 5);

        // Still high: every re-unmask notifies again (handle_level_irq re-queues after the handler).
        for (int i = 0; i < 3; i++)
        {
            h.Driver.ArmIrq(5);
            Valid(h.TakeIrq(), 5);
        }

        h.Lines.SetInputLevel(5, LineValue.Low);
        h.Driver.ArmIrq(5);
        Assert.Null(h.TakeIrq());

        // Edge latched while masked → re-unmask notifies.
        Ok(h.Driver.SetDirection(6, DirIn));
        Ok(h.Driver.SetIrqType(6, EdgeFalling));
        h.Lines.SetInputLevel(6, LineValue.High);
        h.Driver.ArmIrq(6);
        h.Lines.SetInputLevel(6, LineValue.Low);
        Valid(h.TakeIrq(), 6);
        h.Lines.Pulse(6); // masked: the falling edge of the pulse is latched
        h.Driver.ArmIrq(6);
        Valid(h.TakeIrq(), 6);
    }
}
