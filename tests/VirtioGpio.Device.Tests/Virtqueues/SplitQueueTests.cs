// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Virtqueues;

public class SplitQueueTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(65536)]
    [InlineData(-1)]
    [Trait("Spec", "2.7")]
    public void Constructor_RejectsMaxSizeThatIsNotAPowerOfTwoInRange(int maxSize)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new SplitQueue(maxSize));

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    [InlineData(512)]
    [Trait("Spec", "GV1")]
    public void TrySetSize_RejectsInvalidOrTooLargeSizes(int size)
    {
        var queue = new SplitQueue(256);
        Assert.False(queue.TrySetSize(size));
        Assert.Equal(0, queue.Size);
    }

    [Fact]
    public void TrySetSize_AndAddresses_AreRefusedWhileReady()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        Assert.False(queue.TrySetSize(4));
        Assert.False(queue.TrySetAddresses(new GuestAddress(0x100), new GuestAddress(0x2000), new GuestAddress(0x3000)));
        Assert.False(queue.TrySetState(queue.GetState()));
        Assert.False(queue.TrySetNextAvailIndex(5));
        Assert.Throws<InvalidOperationException>(() => queue.Memory = ring.Memory);
        Assert.Throws<InvalidOperationException>(() => queue.EventIdxEnabled = true);
        Assert.Throws<InvalidOperationException>(() => queue.IndirectDescriptorsEnabled = true);
    }

    [Theory]
    [InlineData(0x8UL, 0x1000UL, 0x2000UL)]   // descriptor table needs 16
    [InlineData(0x0UL, 0x1001UL, 0x2000UL)]   // avail ring needs 2
    [InlineData(0x0UL, 0x1000UL, 0x2002UL)]   // used ring needs 4
    [Trait("Spec", "2.7.1")]
    public void TrySetAddresses_RejectsMisalignedRings(ulong desc, ulong avail, ulong used)
    {
        var queue = new SplitQueue(16);
        Assert.False(queue.TrySetAddresses(new GuestAddress(desc), new GuestAddress(avail), new GuestAddress(used)));
        Assert.Equal(0UL, queue.DescriptorTableAddress.Value);
    }

    [Fact]
    public void TryActivate_WithoutSizeOrMemory_ReportsQueueNotReady()
    {
        var queue = new SplitQueue(16);
        Assert.Equal(VirtqueueError.QueueNotReady, queue.TryActivate());
        Assert.True(queue.TrySetSize(16));
        Assert.Equal(VirtqueueError.QueueNotReady, queue.TryActivate());
        Assert.False(queue.IsReady);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [Trait("Spec", "GV9")]
    public void TryActivate_RingWhoseEndLiesOutsideMemory_IsRefused(int which)
    {
        // Memory of 64 KiB; the ring part starts inside but runs past the end (N14: check the whole range).
        var memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(0), new byte[0x10000]));
        var queue = new SplitQueue(256) { Memory = memory };
        Assert.True(queue.TrySetSize(256));
        ulong nearEnd = 0x10000 - 0x10;
        GuestAddress desc = new(which == 0 ? nearEnd : 0x0);
        GuestAddress avail = new(which == 1 ? nearEnd : 0x1000);
        GuestAddress used = new(which == 2 ? nearEnd : 0x2000);
        Assert.True(queue.TrySetAddresses(desc, avail, used));
        Assert.Equal(VirtqueueError.RingMemoryUnavailable, queue.TryActivate());
        Assert.False(queue.IsReady);
    }

    [Fact]
    public void TryActivate_UsedRingInReadOnlyMemory_IsRefused()
    {
        var memory = new RegionGuestMemory(new[]
        {
            new GuestMemoryRegion(new GuestAddress(0), new byte[0x2000]),
            new GuestMemoryRegion(new GuestAddress(0x2000), new byte[0x1000], GuestMemoryAccess.Read),
        });
        var queue = new SplitQueue(16) { Memory = memory };
        Assert.True(queue.TrySetSize(16));
        Assert.True(queue.TrySetAddresses(new GuestAddress(0), new GuestAddress(0x1000), new GuestAddress(0x2000)));
        Assert.Equal(VirtqueueError.RingMemoryUnavailable, queue.TryActivate());
    }

    [Fact]
    public void TryPopAvailable_OnEmptyRing_ReturnsFalseWithoutError()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        Assert.False(queue.TryPopAvailable(out _, out VirtqueueError error));
        Assert.Equal(VirtqueueError.None, error);
        Assert.False(queue.HasAvailable());
    }

    [Fact]
    public void TryPopAvailable_OnQueueNotReady_ReportsQueueNotReady()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue(activate: false);
        ring.Publish(ring.AddRequest().Head);
        Assert.False(queue.TryPopAvailable(out _, out VirtqueueError error));
        Assert.Equal(VirtqueueError.QueueNotReady, error);
        Assert.Equal(VirtqueueError.QueueNotReady, queue.AddUsed(0, 0));
        Assert.Equal(0, ring.UsedIdx);
    }

    [Fact]
    public void DirectTwoDescriptorRequest_IsPoppedReadAndCompleted()
    {
        var ring = new RingFixture(16);
        SplitQueue queue = ring.CreateQueue();
        (ushort head, _, ulong response) = ring.AddRequest(seed: 7);
        ring.Publish(head);

        Assert.True(queue.HasAvailable());
        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error));
        Assert.Equal(VirtqueueError.None, error);
        Assert.Equal(head, chain.HeadIndex);
        Assert.Equal(2, chain.Descriptors.Length);
        Assert.Equal(8u, chain.ReadableLength);
        Assert.Equal(2u, chain.WritableLength);

        Span<byte> request = stackalloc byte[8];
        DescriptorChainReader reader = chain.CreateReader();
        Assert.True(reader.TryReadExactly(request));
        Assert.Equal(new byte[] { 7, 0, 2, 0, 3, 0, 0, 0 }, request.ToArray());

        DescriptorChainWriter writer = chain.CreateWriter();
        Assert.True(writer.TryWriteExactly(new byte[] { 0, 1 }));
        Assert.Equal(VirtqueueError.None, queue.AddUsed(chain.HeadIndex, writer.BytesWritten));

        Assert.Equal(new byte[] { 0, 1 }, ring.Bytes(response, 2).ToArray());
        Assert.Equal(1, ring.UsedIdx);
        Assert.Equal((head, 2u), ring.UsedElement(0));
        Assert.Equal(1, queue.NextAvailIndex);
        Assert.Equal(1, queue.NextUsedIndex);
        Assert.Equal(0, queue.InFlightCount);
    }

    [Fact]
    [Trait("Spec", "G1")]
    public void RequestSplit3Plus5_AndResponseSplit1Plus1_AreGatheredAndScattered()
    {
        var ring = new RingFixture(16);
        SplitQueue queue = ring.CreateQueue();
        ulong r1 = ring.AllocWith(new byte[] { 1, 2, 3 });
        ulong r2 = ring.AllocWith(new byte[] { 4, 5, 6, 7, 8 });
        ulong w1 = ring.Alloc(1);
        ulong w2 = ring.Alloc(1);
        ushort head = ring.AddChain((r1, 3, false), (r2, 5, false), (w1, 1, true), (w2, 1, true));
        ring.Publish(head);

        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
        Assert.Equal(4, chain.Descriptors.Length);
        Assert.Equal(2, chain.ReadableDescriptors.Length);
        Assert.Equal(2, chain.WritableDescriptors.Length);
        Span<byte> request = stackalloc byte[8];
        Assert.True(chain.CreateReader().TryReadExactly(request));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, request.ToArray());

        DescriptorChainWriter writer = chain.CreateWriter();
        Assert.True(writer.TryWriteExactly(new byte[] { 0xAA, 0xBB }));
        Assert.Equal(0xAA, ring.Ram[w1]);
        Assert.Equal(0xBB, ring.Ram[w2]);
        Assert.Equal(VirtqueueError.None, queue.AddUsed(head, writer.BytesWritten));
        Assert.Equal((head, 2u), ring.UsedElement(0));
    }

    [Fact]
    [Trait("Spec", "2.7.5.3")]
    public void SingleIndirectDescriptor_IsFlattened()
    {
        var ring = new RingFixture(16);
        SplitQueue queue = ring.CreateQueue(indirect: true);
        ulong request = ring.AllocWith(new byte[] { 9, 9, 9, 9, 9, 9, 9, 9 });
        ulong response = ring.Alloc(2);
        ulong table = ring.AddIndirectTable((request, 8, DescriptorFlags.Next, 1), (response, 2, DescriptorFlags.Write, 0));
        ring.WriteDescriptor(3, table, 32, DescriptorFlags.Indirect);
        ring.Publish(3);

        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
        Assert.Equal(3, chain.HeadIndex);
        Assert.Equal(2, chain.Descriptors.Length);
        Assert.Equal(request, chain.Descriptors[0].Address.Value);
        Assert.Equal(response, chain.Descriptors[1].Address.Value);
        Assert.Equal(8u, chain.ReadableLength);
        Assert.Equal(2u, chain.WritableLength);
    }

    [Fact]
    [Trait("Spec", "G3")]
    public void IndirectAfterDirectDescriptors_MidChain_IsAccepted()
    {
        var ring = new RingFixture(16);
        SplitQueue queue = ring.CreateQueue(indirect: true);
        ulong header = ring.AllocWith(new byte[] { 1, 2, 3, 4 });
        ulong rest = ring.AllocWith(new byte[] { 5, 6, 7, 8 });
        ulong response = ring.Alloc(2);
        ulong table = ring.AddIndirectTable((rest, 4, DescriptorFlags.Next, 1), (response, 2, DescriptorFlags.Write, 0));
        ring.WriteDescriptor(0, header, 4, DescriptorFlags.Next, 1);
        ring.WriteDescriptor(1, table, 32, DescriptorFlags.Indirect | DescriptorFlags.Write); // WRITE on the pointer is ignored
        ring.Publish(0);

        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error), error.ToString());
        Assert.Equal(3, chain.Descriptors.Length);
        Span<byte> request = stackalloc byte[8];
        Assert.True(chain.CreateReader().TryReadExactly(request));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, request.ToArray());
        Assert.Equal(2u, chain.WritableLength);
    }

    [Fact]
    [Trait("Spec", "N3")]
    public void GoodBadGood_YieldsThreeUsedEntries_WithTheBadOneLengthZero()
    {
        var ring = new RingFixture(16);
        SplitQueue queue = ring.CreateQueue();
        var seen = new List<(ushort, VirtqueueError)>();
        queue.InvalidChainCallback = (head, reason) => seen.Add((head, reason));

        (ushort good1, _, _) = ring.AddRequest(1);
        ushort bad = ring.AddChain((0xFFFF_FFFF_0000UL, 8, false)); // outside guest memory
        (ushort good2, _, _) = ring.AddRequest(2);
        ring.Publish(good1, bad, good2);

        Assert.True(queue.TryPopAvailable(out DescriptorChain first, out _));
        Assert.Equal(good1, first.HeadIndex);
        Assert.Equal(VirtqueueError.None, queue.AddUsed(first.HeadIndex, 2));

        Assert.True(queue.TryPopAvailable(out DescriptorChain second, out _));
        Assert.Equal(good2, second.HeadIndex);
        Assert.Equal(VirtqueueError.None, queue.AddUsed(second.HeadIndex, 2));

        Assert.Equal(3, ring.UsedIdx);
        Assert.Equal((good1, 2u), ring.UsedElement(0));
        Assert.Equal((bad, 0u), ring.UsedElement(1));
        Assert.Equal((good2, 2u), ring.UsedElement(2));
        Assert.Equal(1, queue.InvalidChainCount);
        Assert.Equal(VirtqueueError.GuestMemoryUnavailable, queue.LastChainError);
        Assert.Equal(new[] { (bad, VirtqueueError.GuestMemoryUnavailable) }, seen);
        Assert.False(queue.IsBroken);
    }

    [Fact]
    public void OutOfOrderCompletion_PublishesUsedEntriesInCompletionOrder()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        ushort[] heads = { ring.AddRequest(1).Head, ring.AddRequest(2).Head, ring.AddRequest(3).Head };
        ring.Publish(heads);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(queue.TryPopAvailable(out _, out _));
        }

        Assert.Equal(3, queue.InFlightCount);
        Assert.Equal(VirtqueueError.None, queue.AddUsed(heads[2], 3));
        Assert.Equal(VirtqueueError.None, queue.AddUsed(heads[0], 1));
        Assert.Equal(VirtqueueError.None, queue.AddUsed(heads[1], 2));
        Assert.Equal((heads[2], 3u), ring.UsedElement(0));
        Assert.Equal((heads[0], 1u), ring.UsedElement(1));
        Assert.Equal((heads[1], 2u), ring.UsedElement(2));
        Assert.Equal(3, ring.UsedIdx);
        Assert.Equal(0, queue.InFlightCount);
    }

    [Fact]
    public void AddUsed_RejectsHeadsOutOfRangeNotPoppedOrAlreadyCompleted()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        (ushort head, _, _) = ring.AddRequest();
        ring.Publish(head);

        Assert.Equal(VirtqueueError.InvalidUsedHead, queue.AddUsed(8, 0));
        Assert.Equal(VirtqueueError.InvalidUsedHead, queue.AddUsed(head, 0)); // not popped yet
        Assert.True(queue.TryPopAvailable(out _, out _));
        Assert.Equal(VirtqueueError.None, queue.AddUsed(head, 2));
        Assert.Equal(VirtqueueError.InvalidUsedHead, queue.AddUsed(head, 2)); // twice
        Assert.Equal(1, ring.UsedIdx);
        Assert.False(queue.IsBroken);
    }

    [Fact]
    public void DuplicateHeadStillInFlight_IsSkippedNotCompletedTwice()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        (ushort head, _, _) = ring.AddRequest();
        ring.Publish(head, head);

        Assert.True(queue.TryPopAvailable(out _, out _));
        Assert.False(queue.TryPopAvailable(out _, out VirtqueueError error));
        Assert.Equal(VirtqueueError.None, error);
        Assert.Equal(VirtqueueError.HeadAlreadyInFlight, queue.LastChainError);
        Assert.Equal(0, ring.UsedIdx);
        Assert.Equal(VirtqueueError.None, queue.AddUsed(head, 2));
        Assert.Equal(1, ring.UsedIdx);
    }

    [Fact]
    public void AHeadCompletedBeforeItsSecondOffer_IsPoppedAgain()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        (ushort head, _, _) = ring.AddRequest();
        ring.Publish(head);
        Assert.True(queue.TryPopAvailable(out _, out _));
        Assert.Equal(VirtqueueError.None, queue.AddUsed(head, 2));
        ring.Publish(head);
        Assert.True(queue.TryPopAvailable(out DescriptorChain again, out _));
        Assert.Equal(head, again.HeadIndex);
    }

    [Fact]
    [Trait("Spec", "GV3")]
    public void AvailIndexMoreThanSizeAhead_BreaksTheQueue()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        ring.AvailIdx = 9;
        Assert.False(queue.TryPopAvailable(out _, out VirtqueueError error));
        Assert.Equal(VirtqueueError.AvailIndexOutOfRange, error);
        Assert.True(queue.IsBroken);
        Assert.Equal(VirtqueueError.AvailIndexOutOfRange, queue.BrokenReason);
        Assert.False(queue.TryPopAvailable(out _, out error));
        Assert.Equal(VirtqueueError.QueueBroken, error);
        Assert.Equal(VirtqueueError.QueueBroken, queue.AddUsed(0, 0));
        Assert.Equal(VirtqueueError.QueueBroken, queue.TryActivate());
        Assert.False(queue.HasAvailable());
        Assert.False(queue.NeedsNotification());
        Assert.Equal(0, ring.UsedIdx);
    }

    [Fact]
    [Trait("Spec", "GV3")]
    public void AvailIndexExactlySizeAhead_IsAccepted()
    {
        var ring = new RingFixture(4);
        SplitQueue queue = ring.CreateQueue();
        var heads = new ushort[4];
        for (int i = 0; i < 4; i++)
        {
            heads[i] = ring.AddChain((ring.Alloc(4), 4, false));
        }

        ring.Publish(heads);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
            Assert.Equal(heads[i], chain.HeadIndex);
        }

        Assert.False(queue.IsBroken);
    }

    [Fact]
    [Trait("Spec", "GV2")]
    public void HeadIndexOutOfRange_BreaksTheQueue()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        ring.Publish(8);
        Assert.False(queue.TryPopAvailable(out _, out VirtqueueError error));
        Assert.Equal(VirtqueueError.InvalidHeadIndex, error);
        Assert.True(queue.IsBroken);
        queue.Reset();
        Assert.False(queue.IsBroken);
        Assert.Equal(VirtqueueError.None, queue.BrokenReason);
    }

    [Fact]
    public void AvailIndexIsReReadOnlyWhenTheCachedEntriesAreExhausted()
    {
        var ring = new RingFixture(8);
        var recording = new CountingGuestMemory(ring.Regions);
        ring.Memory = recording;
        SplitQueue queue = ring.CreateQueue();
        ring.Publish(ring.AddRequest(1).Head, ring.AddRequest(2).Head, ring.AddRequest(3).Head);

        for (int i = 0; i < 3; i++)
        {
            Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
            queue.AddUsed(chain.HeadIndex, 0);
        }

        Assert.Equal(1, recording.AcquireLoads);
        Assert.False(queue.TryPopAvailable(out _, out _));
        Assert.Equal(2, recording.AcquireLoads);
    }

    [Fact]
    public void AvailIndexWrapsFrom65535To0()
    {
        var ring = new RingFixture(4);
        SplitQueue queue = ring.CreateQueue(activate: false);
        Assert.True(queue.TrySetState(queue.GetState() with { NextAvailIndex = 65534, NextUsedIndex = 65534 }));
        ring.AvailIdx = 65534;
        ring.UsedIdx = 65534;
        Assert.Equal(VirtqueueError.None, queue.TryActivate());
        var heads = new ushort[4];
        for (int i = 0; i < 4; i++)
        {
            heads[i] = ring.AddChain((ring.Alloc(4), 4, true));
        }

        ring.Publish(heads);
        Assert.Equal(2, ring.AvailIdx);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error), error.ToString());
            Assert.Equal(heads[i], chain.HeadIndex);
            Assert.Equal(VirtqueueError.None, queue.AddUsed(chain.HeadIndex, 4));
        }

        Assert.Equal(2, queue.NextAvailIndex);
        Assert.Equal(2, ring.UsedIdx);
        Assert.Equal((heads[3], 4u), ring.UsedElement(1)); // used index 1 ≡ slot 1
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(256)]
    [InlineData(512)]
    [InlineData(1024)]
    [InlineData(32768)]
    [Trait("Spec", "GV1")]
    public void EverySupportedSize_FillsDrainsAndWrapsTheRing(int size)
    {
        var ring = new RingFixture(size, dataBytes: (size * 32) + 4096);
        SplitQueue queue = ring.CreateQueue();
        for (int round = 0; round < 3; round++)
        {
            var heads = new ushort[size];
            for (int i = 0; i < size; i++)
            {
                heads[i] = ring.AddChain((ring.DataBase + (ulong)(i * 16), 16, true));
            }

            ring.Publish(heads);
            for (int i = 0; i < size; i++)
            {
                Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error), error.ToString());
                Assert.Equal(heads[i], chain.HeadIndex);
            }

            Assert.False(queue.TryPopAvailable(out _, out VirtqueueError empty));
            Assert.Equal(VirtqueueError.None, empty);
            for (int i = size - 1; i >= 0; i--)
            {
                Assert.Equal(VirtqueueError.None, queue.AddUsed(heads[i], 16));
            }
        }

        Assert.Equal(unchecked((ushort)(3 * size)), ring.UsedIdx); // wraps by design for 32768
        Assert.Equal(0, queue.InFlightCount);
        Assert.Equal(0, queue.InvalidChainCount);
    }

    [Fact]
    public void Tracker_SeesPopCompleteAndPublishInOrder()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        var tracker = new LoggingTracker();
        queue.Tracker = tracker;
        (ushort good, _, _) = ring.AddRequest();
        ushort bad = ring.AddChain((0xFFFF_0000_0000UL, 1, false));
        ring.Publish(bad, good);

        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
        queue.AddUsed(chain.HeadIndex, 2);
        Assert.Equal(
            new[] { $"popped {bad}", $"completing {bad}", "published 1", $"popped {good}", $"completing {good}", "published 2" },
            tracker.Events);
    }

    [Fact]
    public void TryReadChain_ReadsByHeadWithoutTouchingTheAvailRing_AndAllowsCompletion()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        (ushort head, _, _) = ring.AddRequest(5);

        Assert.True(queue.TryReadChain(head, out DescriptorChain chain, out VirtqueueError error));
        Assert.Equal(VirtqueueError.None, error);
        Assert.Equal(8u, chain.ReadableLength);
        Assert.Equal(0, queue.NextAvailIndex);
        Assert.Equal(1, queue.InFlightCount);
        Assert.Equal(VirtqueueError.None, queue.AddUsed(head, 2));
        Assert.Equal(1, ring.UsedIdx);
    }

    [Fact]
    public void TryReadChain_OutOfRangeHead_FailsWithoutBreakingTheQueue()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        Assert.False(queue.TryReadChain(8, out _, out VirtqueueError error));
        Assert.Equal(VirtqueueError.InvalidHeadIndex, error);
        Assert.False(queue.IsBroken);
    }

    [Fact]
    public void TryReadChain_MalformedChain_CanBeCompletedWithLengthZero()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        ring.WriteDescriptor(2, 0xFFFF_0000_0000UL, 4, DescriptorFlags.None);
        Assert.False(queue.TryReadChain(2, out _, out VirtqueueError error));
        Assert.Equal(VirtqueueError.GuestMemoryUnavailable, error);
        Assert.Equal(VirtqueueError.None, queue.AddUsed(2, 0));
        Assert.Equal((2u, 0u), ring.UsedElement(0));
    }

    private sealed class LoggingTracker : ISplitQueueTracker
    {
        public List<string> Events { get; } = new();

        public void OnPopped(ushort headIndex) => Events.Add($"popped {headIndex}");

        public void OnCompleting(ushort headIndex) => Events.Add($"completing {headIndex}");

        public void OnUsedIndexPublished(ushort usedIndex) => Events.Add($"published {usedIndex}");
    }
}
