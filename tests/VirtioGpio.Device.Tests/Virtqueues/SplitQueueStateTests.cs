// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Virtqueues;

/// <summary>Save/restore (GET/SET_VRING_BASE), deactivation, queue reset (VIRTIO 1.3 §2.6.1 "Virtqueue Reset").</summary>
public class SplitQueueStateTests
{
    [Fact]
    public void SavedStateRestoredIntoANewQueue_ContinuesWhereTheOldOneStopped()
    {
        var ring = new RingFixture(8);
        SplitQueue first = ring.CreateQueue();
        ring.Publish(ring.AddRequest(1).Head, ring.AddRequest(2).Head, ring.AddRequest(3).Head);
        Assert.True(first.TryPopAvailable(out DescriptorChain chain, out _));
        Assert.Equal(VirtqueueError.None, first.AddUsed(chain.HeadIndex, 2));
        first.Deactivate();
        SplitQueueState state = first.GetState();
        Assert.Equal(new SplitQueueState(8, new GuestAddress(0), new GuestAddress(ring.AvailRing), new GuestAddress(ring.UsedRing), 1, 1), state);

        var second = new SplitQueue(8) { Memory = ring.Memory };
        Assert.True(second.TrySetState(state));
        Assert.Equal(VirtqueueError.None, second.TryActivate());
        Assert.True(second.TryPopAvailable(out DescriptorChain next, out _));
        Assert.Equal(2, next.HeadIndex); // the second request (descriptors 2, 3)
        Assert.Equal(VirtqueueError.None, second.AddUsed(next.HeadIndex, 2));
        Assert.Equal(2, ring.UsedIdx);
    }

    [Theory]
    [InlineData(3, 0UL)]
    [InlineData(16, 0UL)]  // above the maximum 8
    [InlineData(8, 8UL)]   // misaligned descriptor table
    public void TrySetState_RejectsInvalidState(ushort size, ulong descriptorTable)
    {
        var queue = new SplitQueue(8);
        Assert.False(queue.TrySetState(new SplitQueueState(size, new GuestAddress(descriptorTable), new GuestAddress(0x1000), new GuestAddress(0x2000), 0, 0)));
        Assert.Equal(0, queue.Size);
    }

    [Fact]
    public void TrySetState_ClearsBrokenAndInFlight()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        ring.Publish(ring.AddRequest().Head);
        Assert.True(queue.TryPopAvailable(out _, out _));
        ring.AvailIdx = 200;
        Assert.False(queue.TryPopAvailable(out _, out _));
        Assert.True(queue.IsBroken);

        queue.Deactivate();
        Assert.True(queue.TrySetState(queue.GetState() with { NextAvailIndex = 200 }));
        Assert.False(queue.IsBroken);
        Assert.Equal(0, queue.InFlightCount);
        Assert.Equal(VirtqueueError.None, queue.TryActivate());
        Assert.Equal(VirtqueueError.InvalidUsedHead, queue.AddUsed(0, 0)); // forgotten, not completed
    }

    [Fact]
    public void TrySetNextAvailIndex_AndSyncUsedIndex_SupportVhostUserRingStart()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue(activate: false);
        ring.Publish(ring.AddRequest(1).Head, ring.AddRequest(2).Head);
        ring.UsedIdx = 1; // the front-end saw one completion before the back-end restarted

        Assert.True(queue.TrySetNextAvailIndex(1));
        Assert.Equal(VirtqueueError.None, queue.TrySyncUsedIndexFromRing());
        Assert.Equal(1, queue.NextUsedIndex);
        Assert.Equal(VirtqueueError.None, queue.TryActivate());

        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
        Assert.Equal(2, chain.HeadIndex);
        Assert.Equal(VirtqueueError.None, queue.AddUsed(chain.HeadIndex, 2));
        Assert.Equal(2, ring.UsedIdx);
        Assert.Equal((2u, 2u), ring.UsedElement(1));
    }

    [Fact]
    public void TrySyncUsedIndexFromRing_Unconfigured_ReportsQueueNotReady()
        => Assert.Equal(VirtqueueError.QueueNotReady, new SplitQueue(8).TrySyncUsedIndexFromRing());

    [Fact]
    public void Deactivate_StopsRingAccess_AndReactivateContinues()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        ring.Publish(ring.AddRequest(1).Head);
        queue.Deactivate();
        Assert.False(queue.IsReady);
        Assert.False(queue.TryPopAvailable(out _, out VirtqueueError error));
        Assert.Equal(VirtqueueError.QueueNotReady, error);
        Assert.False(queue.HasAvailable());

        Assert.Equal(VirtqueueError.None, queue.TryActivate());
        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
        Assert.Equal(0, chain.HeadIndex);
    }

    [Fact]
    [Trait("Spec", "2.6.1")]
    public void Reset_ReturnsTheQueueToItsUnconfiguredState()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue(indirect: true, eventIdx: true);
        ring.Publish(ring.AddRequest().Head);
        Assert.True(queue.TryPopAvailable(out _, out _));

        queue.Reset();
        Assert.False(queue.IsReady);
        Assert.Equal(0, queue.Size);
        Assert.Equal(8, queue.MaxSize);
        Assert.Equal(default, queue.GetState());
        Assert.False(queue.IndirectDescriptorsEnabled);
        Assert.False(queue.EventIdxEnabled);
        Assert.Equal(0, queue.InFlightCount);
        Assert.Same(ring.Memory, queue.Memory);
        Assert.Equal(VirtqueueError.QueueNotReady, queue.TryActivate());

        // Re-armed by the driver: a fresh ring.
        ring.AvailIdx = 0;
        Assert.True(queue.TrySetSize(8));
        Assert.True(queue.TrySetAddresses(new GuestAddress(0), new GuestAddress(ring.AvailRing), new GuestAddress(ring.UsedRing)));
        Assert.Equal(VirtqueueError.None, queue.TryActivate());
        ring.Publish(ring.AddRequest().Head);
        Assert.True(queue.TryPopAvailable(out _, out _));
    }

    [Fact]
    public void DiscardInFlight_LetsAForgottenHeadBePoppedAgain()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        (ushort head, _, _) = ring.AddRequest();
        ring.Publish(head);
        Assert.True(queue.TryPopAvailable(out _, out _));

        queue.DiscardInFlight(); // the device dropped the chain (queue reset) without completing it
        Assert.Equal(0, queue.InFlightCount);
        Assert.Equal(VirtqueueError.InvalidUsedHead, queue.AddUsed(head, 0));
        ring.Publish(head);
        Assert.True(queue.TryPopAvailable(out DescriptorChain again, out _));
        Assert.Equal(head, again.HeadIndex);
        Assert.Equal(0, queue.InvalidChainCount);
    }
}
