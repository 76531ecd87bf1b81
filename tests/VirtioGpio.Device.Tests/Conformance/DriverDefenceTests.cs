// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Virtqueues;
using static VirtioGpio.Device.Tests.Conformance.DeviceRequirementTests;
using static VirtioGpio.Device.Tests.Conformance.GpioHarness;

namespace VirtioGpio.Device.Tests.Conformance;

/// <summary>STANDARD.md §7.4: driver requirements R1–R12 the device defends against.</summary>
public class DriverDefenceTests
{
    internal static byte[] IrqRequest(ushort gpio)
    {
        byte[] bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, gpio);
        return bytes;
    }

    [Fact]
    [Trait("Spec", "R1")]
    public void R1_AnythingOnTheEventqIsAnIrqPairNeverARequest()
    {
        using GpioHarness h = Create();

        // A GET_VALUE-shaped chain on the eventq: its first two bytes (04 00) name line 4 and nothing is "answered".
        h.Driver.SubmitRawEventBuffers(4, new ReadOnlyMemory<byte>[] { Request(GetValue, 5, 0) }, new[] { 2 }, null);
        Assert.Null(h.TakeIrq());
        Assert.True(h.Device.GetLineState(4).IsInterruptArmed);
        Assert.False(h.Device.GetLineState(5).IsInterruptArmed);

        Ok(h.Driver.SetIrqType(4, EdgeRising));
        h.Lines.SetInputLevel(4, LineValue.High);
        GpioIrqCompletion c = Valid(h.TakeIrq(), 4);
        Assert.Equal(new byte[] { 1, 0xAA }, c.ResponseBuffer); // one status byte, used len 1
    }

    [Fact]
    [Trait("Spec", "R2")]
    public void R2_MissingResponsePartIsUsedLengthZeroAndShortRequestIsErr()
    {
        using GpioHarness h = Create();

        GpioCompletion noResponse = h.Driver.WaitForCompletion(
            h.Driver.SubmitRawRequest(new ReadOnlyMemory<byte>[] { Request(SetValue, 1, 1) }, Array.Empty<int>(), ChainShape.Direct));
        Assert.Equal(0u, noResponse.UsedLength);
        Assert.Equal(GpioDirection.None, h.Device.GetLineState(1).Direction);
        Assert.Equal(LineValue.Low, h.Device.GetLineState(1).OutputValue); // not executed

        GpioCompletion shortRequest = h.Driver.WaitForCompletion(
            h.Driver.SubmitRawRequest(new ReadOnlyMemory<byte>[] { Request(SetValue, 1, 1).AsMemory(0, 7) }, new[] { 2 }, ChainShape.Direct));
        Err(shortRequest);
        Assert.Equal(LineValue.Low, h.Device.GetLineState(1).OutputValue);

        GpioCompletion empty = h.Driver.WaitForCompletion(
            h.Driver.SubmitRawRequest(Array.Empty<ReadOnlyMemory<byte>>(), new[] { 2 }, ChainShape.Direct));
        Err(empty);
        Ok(h.Driver.GetValue(1));
    }

    [Fact]
    [Trait("Spec", "R3")]
    public void R3_ReadableBuffersAreNeverWritten()
    {
        using GpioHarness h = Create(record: true);
        h.Recording!.Clear();
        GpioCompletion c = h.Driver.SetDirection(2, DirOut);
        Ok(c);
        GuestRange[] readable = c.Request.Chain.ReadableRanges.ToArray();
        h.Recording.AssertNoAccessOverlapping(GuestMemoryAccess.Write, readable);

        // A chain whose "response" buffer is readable gets no response at all.
        GpioCompletion wrongFlags = h.Driver.WaitForCompletion(
            h.Driver.SubmitRawRequest(new ReadOnlyMemory<byte>[] { Request(GetValue, 2, 0), new byte[2] }, Array.Empty<int>(), ChainShape.Direct));
        Assert.Equal(0u, wrongFlags.UsedLength);
    }

    [Fact]
    [Trait("Spec", "R4")]
    public void R4_AQueueFullOfParallelMessagesIsServed()
    {
        using GpioHarness h = Create(lines: 64, configureDriver: d => d.QueueSize = 64);
        var handles = new List<GpioRequestHandle>();
        SimulatedVirtioDriver q = h.Driver.RequestQueue;
        var chains = new List<SubmittedChain>();
        for (ushort i = 0; i < 64; i++)
        {
            chains.Add(q.AddChain(new ReadOnlyMemory<byte>[] { Request(SetValue, i, (uint)(i & 1)) }, new[] { 2 }, ChainShape.Indirect));
        }

        q.Publish();
        h.Device.NotifyQueue(0);
        IReadOnlyList<DriverCompletion> used = q.TakeAllUsed();
        Assert.Equal(64, used.Count);
        Assert.All(used, u => Assert.Equal(new byte[] { 0, 0 }, u.Written.ToArray()));
        Assert.Equal(LineValue.High, h.Device.GetLineState(63).OutputValue);
    }

    [Fact]
    [Trait("Spec", "R5")]
    public void R5_IrqMessagesWithoutFIrqAreRefusedAndQueueOneIsIgnored()
    {
        using GpioHarness h = Create(configureDriver: d => d.RequestedFeatures &= ~VirtioGpioTestDriver.FeatureIrq);
        Assert.False(h.Driver.IrqNegotiated);
        Assert.Null(h.Driver.EventQueue);
        Assert.Equal(2, h.Device.QueueCount); // offered, not negotiated

        Err(h.Driver.SetIrqType(0, EdgeRising));
        Assert.Equal(GpioIrqType.None, h.Device.GetLineState(0).IrqType);
        Assert.Equal(VirtqueueError.QueueNotReady, h.Device.SetQueueReady(1, true));
        h.Device.NotifyQueue(1); // ignored
        Ok(h.Driver.GetValue(0));

        // A device that does not offer F_IRQ has a single queue.
        using GpioHarness noIrq = Create(configure: o => o.OfferInterrupts = false);
        Assert.Equal(2, noIrq.Device.QueueCount); // the eventq exists even without F_IRQ (QEMU always sets up two queues)
        Assert.Equal(0UL, noIrq.Device.DeviceFeatures & GpioFeatures.Irq);
        Err(noIrq.Driver.SetIrqType(0, EdgeRising));
    }

    [Fact]
    [Trait("Spec", "R6")]
    public void R6_IrqMessagesForAnOutputLineAreRefused()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.DirectionOutput(1, 1));
        foreach (uint type in new[] { EdgeRising, EdgeFalling, EdgeBoth, LevelHigh, LevelLow })
        {
            Err(h.Driver.SetIrqType(1, type));
        }

        Assert.Equal(GpioIrqType.None, h.Device.GetLineState(1).IrqType);

        // The mirror: OUT while the IRQ is enabled is refused too.
        Ok(h.Driver.SetDirection(2, DirIn));
        Ok(h.Driver.SetIrqType(2, EdgeBoth));
        Err(h.Driver.SetDirection(2, DirOut));
        Assert.Equal(GpioDirection.Input, h.Device.GetLineState(2).Direction);
    }

    [Fact]
    [Trait("Spec", "R7")]
    public void R7_ResetAndSetDirectionNoneCleanUpLinesTheDriverForgot()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(3, DirIn));
        Ok(h.Driver.SetIrqType(3, LevelLow));
        Ok(h.Driver.DirectionOutput(4, 1));
        h.Lines.SetInputLevel(0, LineValue.High);

        h.Driver.ResetDevice();

        Assert.Equal(new GpioLineState(3, GpioDirection.None, LineValue.Low, GpioIrqType.None, false, false), h.Device.GetLineState(3));
        Assert.Equal(GpioDirection.None, h.Lines.GetDirection(4));
        Assert.Equal(GpioIrqType.None, h.Lines.GetIrqType(3));
        Assert.Equal(LineValue.High, h.Lines.GetInputLevel(0)); // host input levels survive a device reset
        Assert.False(h.Device.IsActive);
        Assert.Equal(0UL, h.Device.DriverFeatures);

        h.Driver.Initialize();
        Assert.Equal(1, Ok(h.Driver.GetValue(0)).Value);
    }

    [Fact]
    [Trait("Spec", "R8")]
    public void R8_ChangingTheTypeWithoutDisablingIsErrByDefault()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(0, DirIn));
        Ok(h.Driver.SetIrqType(0, EdgeRising));
        Err(h.Driver.SetIrqType(0, LevelHigh));
        Assert.Equal(GpioIrqType.EdgeRising, h.Device.GetLineState(0).IrqType);
        Ok(h.Driver.SetIrqType(0, EdgeRising)); // same type: idempotent

        // Option: implicit disable-then-enable; the latch is discarded, the armed pair stays armed.
        using GpioHarness o = Create(configure: x => x.ImplicitIrqTypeChange = true);
        Ok(o.Driver.SetDirection(0, DirIn));
        Ok(o.Driver.SetIrqType(0, EdgeRising));
        o.Lines.SetInputLevel(0, LineValue.High); // latched
        Ok(o.Driver.SetIrqType(0, EdgeFalling));
        Assert.Equal(new GpioLineState(0, GpioDirection.Input, LineValue.Low, GpioIrqType.EdgeFalling, false, false), o.Device.GetLineState(0));
        o.Driver.ArmIrq(0);
        Assert.Null(o.TakeIrq());
        o.Lines.SetInputLevel(0, LineValue.Low);
        Valid(o.TakeIrq(), 0);
    }

    [Fact]
    [Trait("Spec", "R9")]
    public void R9_EventsNeedBothEnableAndUnmask()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(7, DirIn));

        h.Driver.ArmIrq(7); // unmasked only
        h.Lines.Toggle(7);
        Assert.Null(h.TakeIrq());

        Ok(h.Driver.SetIrqType(7, EdgeBoth)); // now both
        h.Lines.Toggle(7);
        Valid(h.TakeIrq(), 7);

        h.Lines.Toggle(7); // enabled, masked: latched, not sent
        Assert.Null(h.TakeIrq());
    }

    [Fact]
    [Trait("Spec", "R10")]
    public void R10_UnmaskBeforeEnableIsHeldAndArmedOnEnable()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(1, DirIn));
        h.Driver.ArmIrq(1);
        Assert.Null(h.TakeIrq());

        // Level type enabled while the level is already active: the held pair returns VALID at once (§6.2 row 1).
        Ok(h.Driver.SetIrqType(1, LevelLow));
        Valid(h.TakeIrq(), 1);
    }

    [Fact]
    [Trait("Spec", "R11")]
    public void R11_PairsAreKeyedByTheirGpioFieldNotTheirPosition()
    {
        using GpioHarness h = Create();
        foreach (ushort line in new ushort[] { 5, 2, 6 })
        {
            Ok(h.Driver.SetDirection(line, DirIn));
            Ok(h.Driver.SetIrqType(line, EdgeRising));
            h.Driver.ArmIrq(line);
        }

        h.Lines.SetInputLevel(2, LineValue.High);
        Valid(h.TakeIrq(), 2);
        Assert.Null(h.TakeIrq());
        h.Lines.SetInputLevel(6, LineValue.High);
        h.Lines.SetInputLevel(5, LineValue.High);
        Valid(h.TakeIrq(), 6); // out of order w.r.t. the avail ring
        Valid(h.TakeIrq(), 5);
    }

    [Fact]
    [Trait("Spec", "R12")]
    public void R12_ASecondPairForTheSameLineIsReturnedInvalidAndTheFirstKept()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(3, DirIn));
        Ok(h.Driver.SetIrqType(3, EdgeRising));
        h.Driver.ArmIrq(3);
        h.Driver.ArmIrq(3);
        Invalid(h.TakeIrq(), 3);
        Assert.Null(h.TakeIrq());
        Assert.True(h.Device.GetLineState(3).IsInterruptArmed);

        h.Lines.SetInputLevel(3, LineValue.High);
        Valid(h.TakeIrq(), 3);
        Assert.Equal(0, h.Driver.ArmedIrqCount);
    }
}
