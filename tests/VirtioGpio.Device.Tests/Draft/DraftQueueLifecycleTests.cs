// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Gpio.Draft;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Draft;

/// <summary>Queue enable/disable, queue reset and inflight resubmission of the draft device (IVirtioDevice contract).</summary>
public class DraftQueueLifecycleTests
{
    [Fact]
    [Trait("Spec", "DRAFT-18")]
    public void AParkedReplyWaitsWhileQ1IsDisabledAndIsServedWhenItIsEnabledAgain()
    {
        var h = new DraftDeviceHarness();
        h.AddTx(DraftDeviceHarness.Hex("04 00 02 00 00 00 00 00"));
        h.Device.NotifyQueue(1);
        Assert.Equal(1, h.Device.ParkedReplyCount);

        Assert.Equal(VirtqueueError.None, h.Device.SetQueueReady(1, false));
        h.PostRx();
        Assert.Empty(h.Trace); // q1 is off: neither q0 nor q1 is touched, no notification
        Assert.False(h.Device.NeedsReset);

        Assert.Equal(VirtqueueError.None, h.Device.SetQueueReady(1, true));
        Assert.Equal(new[] { "C0:8", "C1:0", "N1" }, h.Trace);
        Assert.Equal("04f0020001000000", h.TakeReplyHex());
    }

    [Fact]
    public void ResettingQ1ForgetsParkedRepliesWithoutCompletingThem()
    {
        var h = new DraftDeviceHarness();
        h.AddTx(DraftDeviceHarness.Hex("04 00 02 00 00 00 00 00"));
        h.Device.NotifyQueue(1);
        Assert.Equal(1, h.Device.ParkedReplyCount);
        h.Device.ResetQueue(1);
        Assert.Equal(0, h.Device.ParkedReplyCount);
        h.PostRx();
        Assert.Empty(h.Trace);
        Assert.False(h.Rx.TryTakeUsed(out _));
    }

    [Fact]
    public void InflightRequestsAreResubmittedBeforeNewOnes()
    {
        var h = new DraftDeviceHarness(activate: false);
        // A previous back-end popped the first request (next_avail = 1) and died before replying.
        SubmittedChain old = h.AddTx(DraftDeviceHarness.Hex("01 00 05 00 00 00 00 00"));
        h.AddTx(DraftDeviceHarness.Hex("04 00 05 00 00 00 00 00"));
        h.Start(beforeQueuesReady: () =>
        {
            Assert.True(h.Device.GetQueue(1).TrySetNextAvailIndex(1));
            h.Device.ResubmitInflight(1, new[] { old.HeadIndex }); // kept until q1 is ready
        });
        Assert.Empty(h.Trace); // both wait for rx buffers

        h.PostRx();
        h.PostRx();
        Assert.Equal(new[] { "C0:8", "C1:0", "N1", "C0:8", "C1:0", "N1" }, h.Trace);
        Assert.Equal("01f0050000000000", h.TakeReplyHex()); // the resubmitted REQUEST first
        Assert.Equal("04f0050001000000", h.TakeReplyHex());
        var tx = h.Tx.TakeAllUsed();
        Assert.Equal(old.HeadIndex, (ushort)tx[0].Id);
    }

    [Fact]
    public void DisposeDetachesFromABackendItDoesNotOwn()
    {
        using var lines = new SimulatedGpioLineBackend(4);
        var device = new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { EnableHostLevel = true }, lines);
        Assert.Equal(4, device.Config.LineCount);
        Assert.Throws<InvalidOperationException>(() => new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { EnableHostLevel = true }, lines));
        device.Dispose();
        using var second = new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { EnableHostLevel = true }, lines);
        lines.SetInputLevel(0, LineValue.High); // still usable: not disposed by the first device
        Assert.Throws<ArgumentException>(() => new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { LineCount = 8 }, lines));
    }

    [Fact]
    public void ARingLevelFaultOnQ1SetsNeedsResetAndNotifiesAConfigChangeOnce()
    {
        var h = new DraftDeviceHarness(q1Size: 256);
        h.PostRx();
        h.Memory.WriteUInt16(h.Tx.Layout.AvailIndexAddress, 1000); // avail.idx jumped by more than the queue size (GV3)
        h.Device.NotifyQueue(1);
        h.Device.NotifyQueue(1);
        Assert.True(h.Device.NeedsReset);
        Assert.Equal(new[] { "CFG" }, h.Trace);

        // Reset clears it and the device serves again.
        h.Device.Reset();
        Assert.False(h.Device.NeedsReset);
        h.Rx.ResetRings();
        h.Tx.ResetRings();
        h.ClearTrace();
        h.Start();
        h.PostRx();
        h.AssertRpc("04 00 00 00 00 00 00 00", "04 f0 00 00 01 00 00 00");
    }
}
