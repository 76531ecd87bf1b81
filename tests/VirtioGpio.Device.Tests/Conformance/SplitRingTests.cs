// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using static VirtioGpio.Device.Tests.Conformance.DeviceRequirementTests;
using static VirtioGpio.Device.Tests.Conformance.GpioHarness;

namespace VirtioGpio.Device.Tests.Conformance;

/// <summary>STANDARD.md §7.3: the generic split-ring requirements G1–G6, as the GPIO device meets them.</summary>
public class SplitRingTests
{
    public static TheoryData<string> Layouts => new() { "indirect", "direct", "split-3+5", "response-1+1", "mid-chain-indirect", "four-pieces" };

    internal static GpioCompletion SendWithLayout(GpioHarness h, string layout, byte[] request)
    {
        ReadOnlyMemory<byte> all = request;
        GpioRequestHandle handle = layout switch
        {
            "indirect" => h.Driver.SubmitRawRequest(new[] { all }, new[] { 2 }, ChainShape.Indirect),
            "direct" => h.Driver.SubmitRawRequest(new[] { all }, new[] { 2 }, ChainShape.Direct),
            "split-3+5" => h.Driver.SubmitRawRequest(new[] { all[..3], all[3..] }, new[] { 2 }, ChainShape.Direct),
            "response-1+1" => h.Driver.SubmitRawRequest(new[] { all }, new[] { 1, 1 }, ChainShape.Direct),
            "mid-chain-indirect" => h.Driver.SubmitRawRequest(new[] { all[..4], all[4..] }, new[] { 1, 1 }, ChainShape.DirectThenIndirect(1)),
            "four-pieces" => h.Driver.SubmitRawRequest(new[] { all[..1], all[1..2], all[2..7], all[7..] }, new[] { 1, 1 }, ChainShape.Indirect),
            _ => throw new ArgumentOutOfRangeException(nameof(layout)),
        };
        return h.Driver.WaitForCompletion(handle);
    }

    [Theory]
    [Trait("Spec", "G1")]
    [MemberData(nameof(Layouts))]
    public void G1_AnyDescriptorArrangementIsParsedAsByteStreams(string layout)
    {
        using GpioHarness h = Create();
        Ok(h.Driver.DirectionOutput(3, 1));

        GpioCompletion c = SendWithLayout(h, layout, Request(GetValue, 3, 0));

        Assert.Equal(2u, c.UsedLength);
        Assert.Equal(new byte[] { 0, 1 }, c.ResponseBuffer);
        GpioCompletion set = SendWithLayout(h, layout, Request(SetValue, 3, 0));
        Assert.Equal(new byte[] { 0, 0 }, set.ResponseBuffer);
        Assert.Equal(LineValue.Low, h.Lines.GetLevel(3));
    }

    [Fact]
    [Trait("Spec", "G2")]
    public void G2_DeviceWritesOnlyWritableBuffersAndTheUsedRing()
    {
        using GpioHarness h = Create(record: true);
        h.Recording!.Clear();
        var writable = new List<GuestRange>();
        foreach (string layout in new[] { "indirect", "direct", "split-3+5", "response-1+1", "mid-chain-indirect" })
        {
            GpioCompletion c = SendWithLayout(h, layout, Request(GetDirection, 1, 0));
            writable.AddRange(c.Request.Chain.WritableRanges);
        }

        Ok(h.Driver.SetIrqType(2, EdgeRising));
        h.Driver.ArmIrq(2);
        writable.AddRange(h.Driver.EventQueue!.GetDeviceWritableRanges()); // the armed pair's 1-byte response
        h.Lines.SetInputLevel(2, LineValue.High);
        Valid(h.TakeIrq(), 2);

        writable.Add(h.Driver.RequestQueue.Layout.UsedRingRange);
        writable.Add(h.Driver.EventQueue.Layout.UsedRingRange);

        h.Recording.AssertNoWritesOutside(writable.ToArray());
        h.Recording.AssertNoAccessOverlapping(GuestMemoryAccess.Write, h.Driver.RequestQueue.Layout.DescriptorTableRange, h.Driver.EventQueue.Layout.DescriptorTableRange, h.Driver.RequestQueue.Layout.AvailRingRange, h.Driver.EventQueue.Layout.AvailRingRange);
    }

    [Fact]
    [Trait("Spec", "G3")]
    public void G3_IndirectAfterNormalDescriptorsWorks()
    {
        using GpioHarness h = Create();
        GpioCompletion c = SendWithLayout(h, "mid-chain-indirect", Request(SetDirection, 4, DirIn));
        Assert.Equal(2u, c.UsedLength);
        Assert.Equal(new byte[] { 0, 0 }, c.ResponseBuffer);
        Assert.Equal(2, Ok(h.Driver.GetDirection(4)).Value);
    }

    [Fact]
    [Trait("Spec", "G4")]
    public void G4_UsedLengthIsWhatWasWrittenNeverTheBufferSize()
    {
        using GpioHarness h = Create();
        GpioCompletion c = h.Driver.SendRequest(GetDirection, 0, 0, responseSize: 16);
        Assert.Equal(2u, c.UsedLength);
        Assert.Equal(new byte[] { 0, 0 }, c.ResponseBuffer.Take(2).ToArray());
        Assert.All(c.ResponseBuffer.Skip(2), b => Assert.Equal(0xAA, b)); // untouched beyond len
    }

    [Fact]
    [Trait("Spec", "G5")]
    public void G5_SpuriousNotificationsAreHarmless()
    {
        using GpioHarness h = Create();
        long before = h.Driver.Interrupts.Version;
        ushort used = h.Driver.RequestQueue.ReadUsedIndex();

        h.Device.NotifyQueue(0);
        h.Device.NotifyQueue(1);
        h.Device.NotifyQueue(2);
        h.Device.NotifyQueue(-1);
        h.Device.NotifyQueue(int.MaxValue);

        Assert.Equal(used, h.Driver.RequestQueue.ReadUsedIndex());
        Assert.Equal(before, h.Driver.Interrupts.Version);
        Ok(h.Driver.GetValue(0));
    }

    [Fact]
    [Trait("Spec", "G6")]
    public void G6_WithoutEventIdxNoInterruptFlagSuppressesNotifications()
    {
        using GpioHarness h = Create(configureDriver: d => d.RequestedFeatures &= ~VirtioFeatures.RingEventIdx);
        Assert.False(h.Driver.EventIdxNegotiated);
        long n0 = h.Driver.Interrupts.GetUsedBufferNotificationCount(0);
        Ok(h.Driver.GetValue(0));
        long n1 = h.Driver.Interrupts.GetUsedBufferNotificationCount(0);
        Assert.Equal(n0 + 1, n1);

        h.Driver.RequestQueue.SuppressInterrupts(true);
        Ok(h.Driver.GetValue(0)); // the test driver polls the used ring
        Assert.Equal(n1, h.Driver.Interrupts.GetUsedBufferNotificationCount(0));
    }

    [Fact]
    [Trait("Spec", "G6")]
    public void G6_WithEventIdxUsedEventDecidesAndTheFlagIsIgnored()
    {
        using GpioHarness h = Create(configureDriver: d => d.KickOnlyWhenNeeded = true);
        Assert.True(h.Driver.EventIdxNegotiated);
        SimulatedVirtioDriver q = h.Driver.RequestQueue;

        // The flag bit must be ignored with EVENT_IDX: the driver's used_event still asks for the next entry.
        q.SetAvailFlags(SimulatedVirtioDriver.AvailFlagNoInterrupt);
        q.SetUsedEvent(q.LastUsedIndex);
        long n0 = h.Driver.Interrupts.GetUsedBufferNotificationCount(0);
        Ok(h.Driver.GetValue(0));
        Assert.Equal(n0 + 1, h.Driver.Interrupts.GetUsedBufferNotificationCount(0));

        // used_event far ahead: no notification for the next completion.
        q.SetAvailFlags(0);
        h.Driver.RequestQueue.AutoUpdateUsedEvent = false;
        q.SetUsedEvent(unchecked((ushort)(q.LastUsedIndex + 100)));
        long n1 = h.Driver.Interrupts.GetUsedBufferNotificationCount(0);
        Ok(h.Driver.GetValue(0));
        Assert.Equal(n1, h.Driver.Interrupts.GetUsedBufferNotificationCount(0));

        // And the device publishes avail_event, so the driver knows when to kick.
        Assert.Equal(q.AvailIndex, q.ReadAvailEvent());
    }
}
