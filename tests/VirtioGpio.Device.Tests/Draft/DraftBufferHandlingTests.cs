// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio.Draft;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Draft;

/// <summary>DRAFT.md §10 "Buffer handling and ordering", tests 16–24.</summary>
public class DraftBufferHandlingTests
{
    [Fact]
    [Trait("Spec", "DRAFT-16")]
    public void ExactlyEightBytesAreWrittenIntoA1008ByteRxBuffer()
    {
        var h = new DraftDeviceHarness();
        h.Rx.WritableFillByte = 0xAA;
        SubmittedChain rx = h.PostRx(1008);
        h.AddTx(DraftDeviceHarness.Hex("04 00 00 00 00 00 00 00"));
        h.Device.NotifyQueue(1);

        DriverCompletion reply = h.TakeReply();
        Assert.Equal(rx.HeadIndex, (ushort)reply.Id);
        Assert.Equal(8u, reply.Length);
        Assert.Equal(DraftDeviceHarness.Hex("04 f0 00 00 01 00 00 00"), reply.WritableBytes.AsSpan(0, 8).ToArray());
        Assert.All(reply.WritableBytes.Skip(8), b => Assert.Equal(0xAA, b));
        Assert.Equal(1000, reply.WritableBytes.Length - 8);
    }

    [Theory]
    [Trait("Spec", "DRAFT-17")]
    [InlineData(false, 8)] // device-readable rx buffer
    [InlineData(true, 7)]  // writable but shorter than 8
    [InlineData(true, 0)]
    public void ABadRxBufferIsNeverWrittenOrReportedAndFlagsADeviceError(bool writable, int length)
    {
        var h = new DraftDeviceHarness();
        SubmittedChain rx;
        if (writable)
        {
            h.Rx.WritableFillByte = 0xAA;
            rx = h.Rx.AddChain(ReadOnlySpan<ReadOnlyMemory<byte>>.Empty, new[] { length });
        }
        else
        {
            rx = h.Rx.AddChain(new ReadOnlyMemory<byte>[] { Enumerable.Repeat((byte)0xAA, length).ToArray() }, ReadOnlySpan<int>.Empty);
        }

        h.Rx.Publish();
        h.Device.NotifyQueue(0);
        h.AddTx(DraftDeviceHarness.Hex("04 00 00 00 00 00 00 00"));
        h.Device.NotifyQueue(1);

        Assert.True(h.Device.NeedsReset);
        Assert.Equal(new[] { "CFG" }, h.Trace); // no C0 (len 0 or otherwise), no C1, no N1
        Assert.False(h.Rx.TryTakeUsed(out _));
        Assert.False(h.Tx.TryTakeUsed(out _));
        foreach (GuestRange range in rx.ReadableRanges.Concat(rx.WritableRanges))
        {
            Assert.All(h.Memory.ReadBytes(range.Start, (int)range.Length), b => Assert.Equal(0xAA, b));
        }

        // Stopped until reset: further kicks do nothing.
        h.PostRx();
        h.Device.NotifyQueue(1);
        Assert.Equal(new[] { "CFG" }, h.Trace);
    }

    [Fact]
    [Trait("Spec", "DRAFT-17")]
    public void AMalformedRxChainFlagsADeviceErrorInsteadOfServingARequest()
    {
        var h = new DraftDeviceHarness();
        // A head whose descriptor chains to an index outside the table: a chain-level fault the engine completes with len 0.
        h.Rx.WriteDescriptor(0, DraftDeviceHarness.BufferBase + 0x30000, 8, DescriptorFlags.Write | DescriptorFlags.Next, 999);
        h.Memory.WriteUInt16(h.Rx.Layout.AvailEntryAddress(0), 0);
        h.Memory.WriteUInt16(h.Rx.Layout.AvailIndexAddress, 1);
        h.AddTx(DraftDeviceHarness.Hex("04 00 00 00 00 00 00 00"));
        h.Device.NotifyQueue(1);

        Assert.True(h.Device.NeedsReset);
        Assert.DoesNotContain("C1:0", h.Trace);
        Assert.DoesNotContain("N1", h.Trace);
        Assert.Contains("CFG", h.Trace);
    }

    [Fact]
    [Trait("Spec", "DRAFT-18")]
    public void WithoutAnRxBufferTheReplyIsParkedUntilOneIsPosted()
    {
        var h = new DraftDeviceHarness();
        h.AddTx(DraftDeviceHarness.Hex("04 00 03 00 00 00 00 00"));
        h.Device.NotifyQueue(1);
        Assert.Empty(h.Trace); // no C1, no N1
        Assert.Equal(1, h.Device.ParkedReplyCount);

        h.PostRx(); // kicks q0
        Assert.Equal(new[] { "C0:8", "C1:0", "N1" }, h.Trace);
        Assert.Equal("04f0030001000000", h.TakeReplyHex());
        Assert.Equal(0, h.Device.ParkedReplyCount);
    }

    [Fact]
    [Trait("Spec", "DRAFT-19")]
    public void TwoRequestsInOneKickAreServedFifoEachWithItsOwnSequence()
    {
        var h = new DraftDeviceHarness();
        h.PostRx();
        h.PostRx();
        h.PostRx();
        h.ClearTrace();
        h.AddTx(DraftDeviceHarness.Hex("03 00 01 00 01 00 00 00"));
        h.AddTx(DraftDeviceHarness.Hex("04 00 01 00 00 00 00 00"));
        h.Device.NotifyQueue(1);

        Assert.Equal(new[] { "C0:8", "C1:0", "N1", "C0:8", "C1:0", "N1" }, h.Trace);
        Assert.Equal("03f0010000000000", h.TakeReplyHex());
        Assert.Equal("04f0010000000000", h.TakeReplyHex()); // served after the first: already an output
        var tx = h.Tx.TakeAllUsed();
        Assert.Equal(2, tx.Count);
        Assert.True(tx[0].Chain!.AvailIndex < tx[1].Chain!.AvailIndex);
    }

    [Fact]
    [Trait("Spec", "DRAFT-19")]
    public void TwoRequestsWithOneRxBufferServeTheFirstAndParkTheSecond()
    {
        var h = new DraftDeviceHarness();
        h.PostRx();
        h.AddTx(DraftDeviceHarness.Hex("01 00 00 00 00 00 00 00"));
        h.AddTx(DraftDeviceHarness.Hex("01 00 01 00 00 00 00 00"));
        h.Device.NotifyQueue(1);
        Assert.Equal(new[] { "C0:8", "C1:0", "N1" }, h.Trace);
        Assert.Equal(1, h.Device.ParkedReplyCount);
        h.PostRx();
        Assert.Equal(new[] { "C0:8", "C1:0", "N1", "C0:8", "C1:0", "N1" }, h.Trace);
        Assert.Equal("01f0000000000000", h.TakeReplyHex());
        Assert.Equal("01f0010000000000", h.TakeReplyHex());
    }

    [Fact]
    [Trait("Spec", "DRAFT-20")]
    public void ASpuriousKickDoesNothing()
    {
        var h = new DraftDeviceHarness();
        h.PostRx();
        h.Rpc("04 00 00 00 00 00 00 00");
        h.ClearTrace();
        h.Device.NotifyQueue(1);
        h.Device.NotifyQueue(1);
        h.Device.NotifyQueue(0);
        h.Device.NotifyQueue(7); // out of range: ignored
        Assert.Empty(h.Trace);
        Assert.Equal(1L, h.Device.CompletedRequestCount);
    }

    [Fact]
    [Trait("Spec", "DRAFT-21")]
    public void TheQ1BudgetIsSpentAfterSixteenRequestsAndTheDeviceStaysConsistent()
    {
        var h = new DraftDeviceHarness(q0Size: 64, q1Size: 16);
        h.PostRx();
        for (int i = 0; i < 16; i++)
        {
            h.Rpc($"04 00 0{i % 8} 00 00 00 00 00");
            Assert.Equal("04f00" + (i % 8) + "0001000000", h.TakeReplyHex());
        }

        // The driver never reclaims q1 descriptors: the 17th add fails (the guest's -ENOSPC).
        Assert.Throws<InvalidOperationException>(() => h.AddTx(DraftDeviceHarness.Hex("04 00 00 00 00 00 00 00")));
        Assert.Equal(16L, h.Device.CompletedRequestCount);
        Assert.False(h.Device.NeedsReset);

        // A failed request still posts its rx buffer, and the ring code still kicks q1: no completions follow.
        h.ClearTrace();
        h.PostRx();
        h.PostRx();
        h.Device.NotifyQueue(1);
        Assert.Empty(h.Trace);
        Assert.Equal(0, h.Device.ParkedReplyCount);
    }

    [Fact]
    [Trait("Spec", "DRAFT-22")]
    public void AnEarlyQ0KickBeforeDriverOkIsHarmlessAndTheBufferStaysAvailable()
    {
        var h = new DraftDeviceHarness(activate: false);
        h.PostRx(); // probe: rx buffer + q0 kick before DRIVER_OK
        Assert.Empty(h.Trace);
        Assert.False(h.Device.IsActive);
        Assert.False(h.Device.NeedsReset);
        Assert.Equal(1, h.Memory.ReadUInt16(h.Rx.Layout.AvailIndexAddress));

        h.Start();
        Assert.Empty(h.Trace);
        h.AddTx(DraftDeviceHarness.Hex("04 00 00 00 00 00 00 00"));
        h.Device.NotifyQueue(1);
        Assert.Equal(new[] { "C0:8", "C1:0", "N1" }, h.Trace);
        Assert.Equal("04f0000001000000", h.TakeReplyHex()); // the early buffer carried the reply
    }

    [Fact]
    [Trait("Spec", "DRAFT-23")]
    public void EveryC1IsPrecededByItsC0AndN1ComesLast()
    {
        var h = new DraftDeviceHarness();
        h.PostRx();
        var rng = new Random(23);
        for (int i = 0; i < 200; i++)
        {
            // Mix the driver's normal pattern with parked replies (tx before rx) and batches.
            int pattern = rng.Next(3);
            if (pattern == 0)
            {
                h.Rpc($"04 00 0{rng.Next(8)} 00 00 00 00 00");
            }
            else if (pattern == 1)
            {
                // Two requests but only the spare: the first is served, the second parks until the next rx post.
                h.AddTx(DraftDeviceHarness.Hex("05 00 01 00 00 00 00 00"));
                h.AddTx(DraftDeviceHarness.Hex("04 00 01 00 00 00 00 00"));
                h.Device.NotifyQueue(1);
                Assert.Equal(1, h.Device.ParkedReplyCount);
                h.PostRx();
                h.PostRx();
                Assert.Equal(0, h.Device.ParkedReplyCount);
            }
            else
            {
                h.PostRx();
                h.PostRx();
                h.AddTx(DraftDeviceHarness.Hex("01 00 02 00 00 00 00 00"));
                h.AddTx(DraftDeviceHarness.Hex("04 00 02 00 00 00 00 00"));
                h.Device.NotifyQueue(1);
            }

            h.Rx.TakeAllUsed();
            h.Tx.TakeAllUsed();
        }

        List<string> trace = h.Trace;
        Assert.Equal(0, trace.Count % 3);
        for (int i = 0; i < trace.Count; i += 3)
        {
            Assert.Equal(new[] { "C0:8", "C1:0", "N1" }, trace.Skip(i).Take(3));
        }

        Assert.DoesNotContain("N0", trace);
    }

    [Fact]
    [Trait("Spec", "DRAFT-24")]
    public void WithEventIdxForcedOnQ1IsNotifiedForEveryReplyWhateverUsedEventSays()
    {
        var h = new DraftDeviceHarness(activate: false);
        h.Start(beforeQueuesReady: () => h.Device.GetQueue(1).EventIdxEnabled = true); // a transport forcing EVENT_IDX
        h.Tx.EventIdxEnabled = true; // the driver never takes q1 used entries, so used_event stays 0
        h.PostRx();
        for (int i = 0; i < 5; i++)
        {
            h.ClearTrace();
            h.Rpc("04 00 00 00 00 00 00 00");
            Assert.Equal(new[] { "C0:8", "C1:0", "N1" }, h.Trace);
        }

        Assert.Equal(0, h.Memory.ReadUInt16(h.Tx.Layout.UsedEventAddress));
    }
}
