// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Gpio.Draft;

namespace VirtioGpio.Device.Tests.Draft;

/// <summary>DRAFT.md §10 "Async and lifecycle", tests 25–28.</summary>
public class DraftAsyncAndLifecycleTests
{
    private static DraftDeviceHarness WithHostLevel()
    {
        var options = DraftDeviceHarness.DefaultOptions();
        options.EnableHostLevel = true;
        return new DraftDeviceHarness(options);
    }

    [Fact]
    [Trait("Spec", "DRAFT-25")]
    public void HostLevelIsOffByDefault()
    {
        var h = new DraftDeviceHarness();
        h.PostRx();
        h.AssertRpc("01 00 03 00 00 00 00 00", "01 f0 03 00 00 00 00 00");
        h.ClearTrace();
        h.Lines.Backend.SetInputLevel(3, LineValue.High);
        h.Lines.Backend.Pulse(2);
        Assert.Empty(h.Trace);
        Assert.False(h.Rx.TryTakeUsed(out _));
        Assert.Equal(0L, h.Device.HostLevelMessageCount);
    }

    [Fact]
    [Trait("Spec", "DRAFT-26")]
    public void HostLevelWritesOneMessageAndNotifiesQ1WithoutAQ1Entry()
    {
        var h = WithHostLevel();
        h.PostRx();

        // Before the first completed request: suppressed.
        h.Lines.Backend.SetInputLevel(3, LineValue.High);
        Assert.Empty(h.Trace);
        h.Lines.Backend.SetInputLevel(3, LineValue.Low);

        h.AssertRpc("04 00 03 00 00 00 00 00", "04 f0 03 00 01 00 00 00");
        h.ClearTrace();
        int q1Used = h.Memory.ReadUInt16(h.Tx.Layout.UsedIndexAddress);

        h.Lines.Backend.SetInputLevel(3, LineValue.High);
        Assert.Equal(new[] { "C0:8", "N1" }, h.Trace); // no C1
        Assert.Equal("1100030001000000", h.TakeReplyHex());
        Assert.Equal(q1Used, h.Memory.ReadUInt16(h.Tx.Layout.UsedIndexAddress));
        Assert.Equal(1L, h.Device.HostLevelMessageCount);

        // Nothing else goes to q0 until a new q0 buffer appears: there is even a spare one here, but no re-post yet.
        h.PostRx(kick: false);
        h.PostRx(kick: false);
        h.ClearTrace();
        long before = h.Device.HostLevelMessageCount;
        h.Lines.Backend.SetInputLevel(3, LineValue.Low);
        Assert.Equal(before + 1, h.Device.HostLevelMessageCount); // the re-post (new avail index) released it
        h.TakeReplyHex();
        h.Lines.Backend.SetInputLevel(3, LineValue.High); // no re-post since: suppressed
        Assert.Equal(before + 1, h.Device.HostLevelMessageCount);
        Assert.Equal(new[] { "C0:8", "N1" }, h.Trace);
    }

    [Fact]
    [Trait("Spec", "DRAFT-26")]
    public void HostLevelIsSuppressedWhileARequestIsInFlightAndForOutputs()
    {
        var h = WithHostLevel();
        h.PostRx();
        h.AssertRpc("03 00 05 00 01 00 00 00", "03 f0 05 00 00 00 00 00"); // line 5 becomes an output
        h.ClearTrace();

        // A request waiting for an rx buffer (in flight): no HOST_LEVEL may overtake it... the spare buffer is consumed
        // by the request's reply, so post a fresh one after the tx.
        h.AddTx(DraftDeviceHarness.Hex("04 00 00 00 00 00 00 00"));
        h.Lines.Backend.SetInputLevel(1, LineValue.High); // q1 has an unserved entry: suppressed
        Assert.Empty(h.Trace);
        h.Device.NotifyQueue(1);
        Assert.Equal(new[] { "C0:8", "C1:0", "N1" }, h.Trace);
        Assert.Equal("04f0000001000000", h.TakeReplyHex());

        h.ClearTrace();
        h.PostRx(); // an idle spare
        h.Lines.Backend.SetInputLevel(5, LineValue.High); // stimulus on an output: never reaches the guest
        Assert.Empty(h.Trace);
        Assert.Equal(0L, h.Device.HostLevelMessageCount);
    }

    [Fact]
    [Trait("Spec", "DRAFT-27")]
    public void ResetRestoresLinesIndicesAndTheQ1Budget()
    {
        var h = new DraftDeviceHarness(q0Size: 64, q1Size: 16);
        h.PostRx();
        h.Rpc("03 00 00 00 01 00 00 00"); // q1 entries are never reclaimed, as in the real driver
        Assert.Equal("03f0000000000000", h.TakeReplyHex());
        for (int i = 0; i < 15; i++)
        {
            h.Rpc("05 00 00 00 00 00 00 00");
            h.TakeReply();
        }

        Assert.Throws<InvalidOperationException>(() => h.AddTx(DraftDeviceHarness.Hex("04 00 00 00 00 00 00 00")));

        // Status 0, then the driver starts over.
        h.Device.Reset();
        Assert.False(h.Device.IsActive);
        Assert.Equal(0L, h.Device.CompletedRequestCount);
        Assert.False(h.Device.IsOutput(0));
        Assert.Equal(GpioDirection.Input, h.Lines.Backend.GetDirection(0));
        Assert.Equal(LineValue.Low, h.Lines.Backend.GetLevel(0));
        Assert.Equal(0, h.Device.GetQueue(1).NextAvailIndex);
        h.Rx.ResetRings();
        h.Tx.ResetRings();
        h.ClearTrace();
        h.Start();
        h.PostRx();

        for (int i = 0; i < 16; i++)
        {
            h.ClearTrace();
            h.Rpc("04 00 00 00 00 00 00 00");
            Assert.Equal(new[] { "C0:8", "C1:0", "N1" }, h.Trace);
            Assert.Equal("04f0000001000000", h.TakeReplyHex()); // input again
        }

        Assert.True(h.Tx.TryTakeUsed(out var first));
        Assert.Equal(0, first.UsedIndex); // ring indices restarted at 0
        Assert.Equal(0u, first.Id);
    }

    [Fact]
    [Trait("Spec", "DRAFT-28")]
    public void ProbeTraceReplayOf33Requests()
    {
        var h = new DraftDeviceHarness(activate: false);
        h.PostRx(); // probe posts one rx buffer and kicks q0 before DRIVER_OK
        h.Start();

        var steps = new List<(string Tx, string Rx)>();
        for (int k = 0; k < 8; k++)
        {
            steps.Add(($"04 00 0{k} 00 00 00 00 00", $"04 f0 0{k} 00 01 00 00 00"));
        }

        steps.AddRange(new[]
        {
            ("01 00 00 00 00 00 00 00", "01 f0 00 00 00 00 00 00"), // REQUEST 0
            ("04 00 00 00 00 00 00 00", "04 f0 00 00 01 00 00 00"), // GET_DIR 0
            ("04 00 00 00 00 00 00 00", "04 f0 00 00 01 00 00 00"), // GET_DIR 0
            ("03 00 00 00 01 00 00 00", "03 f0 00 00 00 00 00 00"), // DIR_OUT(0, 1)
            ("04 00 00 00 00 00 00 00", "04 f0 00 00 00 00 00 00"), // GET_DIR 0 → 0
            ("05 00 00 00 00 00 00 00", "05 f0 00 00 01 00 00 00"), // GET_VALUE → 1
            ("05 00 00 00 00 00 00 00", "05 f0 00 00 01 00 00 00"),
            ("06 00 00 00 00 00 00 00", "06 f0 00 00 00 00 00 00"), // SET_VALUE 0
            ("05 00 00 00 00 00 00 00", "05 f0 00 00 00 00 00 00"), // GET_VALUE → 0
            ("05 00 00 00 00 00 00 00", "05 f0 00 00 00 00 00 00"),
            ("06 00 00 00 01 00 00 00", "06 f0 00 00 00 00 00 00"), // SET_VALUE 1
            ("05 00 00 00 00 00 00 00", "05 f0 00 00 01 00 00 00"), // GET_VALUE → 1
            ("05 00 00 00 00 00 00 00", "05 f0 00 00 01 00 00 00"),
            ("02 00 00 00 00 00 00 00", "02 f0 00 00 00 00 00 00"), // DIR_IN
            ("04 00 00 00 00 00 00 00", "04 f0 00 00 01 00 00 00"), // GET_DIR → 1
            ("05 00 00 00 00 00 00 00", "05 f0 00 00 00 00 00 00"), // GET_VALUE ×2 (input, low)
            ("05 00 00 00 00 00 00 00", "05 f0 00 00 00 00 00 00"),
            ("01 00 00 00 00 00 00 00", "01 f0 00 00 00 00 00 00"), // REQUEST 0
            ("04 00 00 00 00 00 00 00", "04 f0 00 00 01 00 00 00"), // GET_DIR 0
            ("01 00 07 00 00 00 00 00", "01 f0 07 00 00 00 00 00"), // REQUEST 7
            ("04 00 07 00 00 00 00 00", "04 f0 07 00 01 00 00 00"), // GET_DIR 7
            ("04 00 00 00 00 00 00 00", "04 f0 00 00 01 00 00 00"), // GET_DIR 0
            ("05 00 00 00 00 00 00 00", "05 f0 00 00 00 00 00 00"), // GET_VALUE 0
            ("04 00 07 00 00 00 00 00", "04 f0 07 00 01 00 00 00"), // GET_DIR 7
            ("05 00 07 00 00 00 00 00", "05 f0 07 00 00 00 00 00"), // GET_VALUE 7
        });
        Assert.Equal(33, steps.Count);

        for (int i = 0; i < steps.Count; i++)
        {
            h.AssertRpc(steps[i].Tx, steps[i].Rx);

            // Steady state: one spare rx buffer when idle (DRAFT.md §3.3).
            Assert.Equal(1, (ushort)(h.Memory.ReadUInt16(h.Rx.Layout.AvailIndexAddress) - h.Device.GetQueue(0).NextAvailIndex));
        }

        Assert.Equal(33L, h.Device.CompletedRequestCount);
        Assert.False(h.Device.NeedsReset);
    }

    [Fact]
    [Trait("Spec", "DRAFT-23")]
    public void ConcurrentKicksAndStimulusKeepOneReplyPerRequest()
    {
        var options = DraftDeviceHarness.DefaultOptions();
        options.EnableHostLevel = true;
        var h = new DraftDeviceHarness(options, q0Size: 256, q1Size: 256);
        h.PostRx();
        using var stop = new CancellationTokenSource();
        var stimulus = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                h.Lines.Backend.Toggle(4);
                h.Device.NotifyQueue(0);
            }
        });
        stimulus.Start();
        try
        {
            for (int i = 0; i < 100; i++)
            {
                h.Rpc("05 00 04 00 00 00 00 00");
            }
        }
        finally
        {
            stop.Cancel();
            Assert.True(stimulus.Join(TimeSpan.FromSeconds(30)));
        }

        // A HOST_LEVEL may take the rx buffer an Rpc posted before its tx kick (no request is in flight in that
        // window, DRAFT.md §6), which parks that request's reply until the driver posts the next rx buffer; the
        // next Rpc's PostRx releases it. For the last request, post one more, as a driver does after a HOST_LEVEL.
        if (h.Device.CompletedRequestCount < 100)
        {
            h.PostRx();
            h.Device.NotifyQueue(0);
        }

        Assert.Equal(100L, h.Device.CompletedRequestCount);
        Assert.Equal(100, h.Tx.TakeAllUsed().Count);
        Assert.False(h.Device.NeedsReset);
        List<string> trace = h.Trace;
        Assert.Equal(100, trace.Count(t => t == "C1:0"));
        for (int i = 0; i < trace.Count; i++)
        {
            if (trace[i] == "C1:0")
            {
                Assert.Equal("C0:8", trace[i - 1]);
                Assert.Equal("N1", trace[i + 1]);
            }
        }
    }
}
