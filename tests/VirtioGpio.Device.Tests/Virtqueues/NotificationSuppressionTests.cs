// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Virtqueues;

/// <summary>VIRTIO 1.3 §2.7.7 "Used Buffer Notification Suppression" and §2.7.10 "Available Buffer Notification Suppression" (G6).</summary>
public class NotificationSuppressionTests
{
    [Fact]
    [Trait("Spec", "G6")]
    public void WithoutEventIdx_NotifiesUnlessNoInterruptIsSet()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        Complete(ring, queue);
        Assert.True(queue.NeedsNotification());

        ring.AvailFlags = 1; // VRING_AVAIL_F_NO_INTERRUPT
        Complete(ring, queue);
        Assert.False(queue.NeedsNotification());

        ring.AvailFlags = 0;
        ring.UsedEvent = 100; // ignored without EVENT_IDX
        Complete(ring, queue);
        Assert.True(queue.NeedsNotification());
    }

    [Fact]
    [Trait("Spec", "G6")]
    public void NothingPublishedSinceLastCall_NeedsNoNotification()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        Assert.False(queue.NeedsNotification());
        Complete(ring, queue);
        Assert.True(queue.NeedsNotification());
        Assert.False(queue.NeedsNotification());

        SplitQueue eventIdx = new RingFixture(8).CreateQueue(eventIdx: true);
        Assert.False(eventIdx.NeedsNotification());
    }

    [Fact]
    [Trait("Spec", "G6")]
    public void WithEventIdx_NotifiesWhenUsedIdxPassesUsedEvent()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue(eventIdx: true);
        ring.AvailFlags = 1; // must be ignored with EVENT_IDX
        ring.UsedEvent = 2;  // notify when the entry with index 2 is written (used.idx reaches 3)

        Complete(ring, queue); // used.idx 1
        Assert.False(queue.NeedsNotification());
        Complete(ring, queue); // used.idx 2
        Assert.False(queue.NeedsNotification());
        Complete(ring, queue); // used.idx 3: crossed used_event
        Assert.True(queue.NeedsNotification());
        Complete(ring, queue); // used.idx 4
        Assert.False(queue.NeedsNotification());
    }

    [Fact]
    [Trait("Spec", "G6")]
    public void WithEventIdx_ABatchCrossingUsedEventNotifiesOnce()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue(eventIdx: true);
        ring.UsedEvent = 1;
        for (int i = 0; i < 4; i++)
        {
            Complete(ring, queue);
        }

        Assert.True(queue.NeedsNotification());
        Assert.False(queue.NeedsNotification());
    }

    [Fact]
    [Trait("Spec", "G6")]
    public void WithEventIdx_WrapFrom65535To0_IsHandled()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue(eventIdx: true, activate: false);
        Assert.True(queue.TrySetState(queue.GetState() with { NextAvailIndex = 65534, NextUsedIndex = 65534 }));
        ring.AvailIdx = 65534;
        ring.UsedIdx = 65534;
        Assert.Equal(VirtqueueError.None, queue.TryActivate());
        Assert.True(queue.NeedsNotification()); // first call after a restore: baseline unknown, notify once

        ring.UsedEvent = 65535; // notify when the entry with index 65535 is written (used.idx becomes 0)
        Complete(ring, queue);  // writes entry 65534, used.idx 65535
        Assert.False(queue.NeedsNotification());
        Complete(ring, queue);  // writes entry 65535, used.idx wraps to 0
        Assert.Equal(0, ring.UsedIdx);
        Assert.True(queue.NeedsNotification());

        ring.UsedEvent = 0;
        Complete(ring, queue);  // entry 0, used.idx 1
        Assert.True(queue.NeedsNotification());
    }

    [Fact]
    [Trait("Spec", "G6")]
    public void SetAvailNotifications_WithoutEventIdx_TogglesUsedFlagsNoNotify()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        Assert.Equal(VirtqueueError.None, queue.SetAvailNotifications(false));
        Assert.Equal(1, ring.UsedFlags);
        Assert.Equal(VirtqueueError.None, queue.SetAvailNotifications(true));
        Assert.Equal(0, ring.UsedFlags);
    }

    [Fact]
    [Trait("Spec", "G6")]
    public void SetAvailNotifications_WithEventIdx_PublishesAvailEventAndLeavesFlagsZero()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue(eventIdx: true);
        ring.Publish(ring.AddRequest().Head, ring.AddRequest().Head);
        Assert.True(queue.TryPopAvailable(out _, out _));
        Assert.True(queue.TryPopAvailable(out _, out _));

        Assert.Equal(VirtqueueError.None, queue.SetAvailNotifications(false));
        Assert.Equal(0, ring.UsedFlags);
        Assert.Equal(0, ring.AvailEvent);
        Assert.Equal(VirtqueueError.None, queue.SetAvailNotifications(true));
        Assert.Equal(2, ring.AvailEvent);
        Assert.Equal(0, ring.UsedFlags);
    }

    [Fact]
    public void NotificationCalls_OnAQueueNotReady_DoNothing()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue(activate: false);
        Assert.False(queue.NeedsNotification());
        Assert.Equal(VirtqueueError.QueueNotReady, queue.SetAvailNotifications(false));
        Assert.Equal(0, ring.UsedFlags);
    }

    private static void Complete(RingFixture ring, SplitQueue queue)
    {
        ushort head = ring.AddChain((ring.Alloc(2), 2, true));
        ring.Publish(head);
        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error), error.ToString());
        Assert.Equal(VirtqueueError.None, queue.AddUsed(chain.HeadIndex, 2));
    }
}
