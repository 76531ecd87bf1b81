// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Virtqueues;

/// <content>Split-ring layout: offsets and sizes (VIRTIO 1.3 §2.7 "Split Virtqueues").</content>
public sealed partial class SplitQueue
{
    /// <summary>Required alignment of the descriptor table (VIRTIO 1.3 §2.7 "Split Virtqueues", alignment table).</summary>
    public const int DescriptorTableAlignment = 16;

    /// <summary>Required alignment of the avail (driver) ring.</summary>
    public const int AvailRingAlignment = 2;

    /// <summary>Required alignment of the used (device) ring.</summary>
    public const int UsedRingAlignment = 4;

    // VIRTIO 1.3 §2.7.6 "The Virtqueue Available Ring": le16 flags; le16 idx; le16 ring[N]; le16 used_event.
    private const int AvailFlagsOffset = 0;
    private const int AvailIdxOffset = 2;
    private const int AvailEntriesOffset = 4;
    private const int AvailEntrySize = 2;

    // VIRTIO 1.3 §2.7.8 "The Virtqueue Used Ring": le16 flags; le16 idx; struct { le32 id; le32 len; } ring[N]; le16 avail_event.
    private const int UsedFlagsOffset = 0;
    private const int UsedIdxOffset = 2;
    private const int UsedEntriesOffset = 4;
    private const int UsedEntrySize = 8;

    /// <summary>VRING_AVAIL_F_NO_INTERRUPT (VIRTIO 1.3 §2.7.7 "Used Buffer Notification Suppression").</summary>
    private const ushort AvailFlagNoInterrupt = 1;

    /// <summary>VRING_USED_F_NO_NOTIFY (VIRTIO 1.3 §2.7.10 "Available Buffer Notification Suppression").</summary>
    private const ushort UsedFlagNoNotify = 1;

    /// <summary>Size in bytes of the descriptor table of a queue with <paramref name="queueSize"/> entries: 16·N.</summary>
    /// <param name="queueSize">Queue size N.</param>
    /// <returns>The table size in bytes.</returns>
    public static ulong GetDescriptorTableSize(int queueSize) => (ulong)(uint)queueSize * Descriptor.Size;

    /// <summary>Size in bytes of the avail ring (including <c>used_event</c>): 6 + 2·N.</summary>
    /// <param name="queueSize">Queue size N.</param>
    /// <returns>The ring size in bytes.</returns>
    public static ulong GetAvailRingSize(int queueSize) => 6 + ((ulong)(uint)queueSize * AvailEntrySize);

    /// <summary>Size in bytes of the used ring (including <c>avail_event</c>): 6 + 8·N.</summary>
    /// <param name="queueSize">Queue size N.</param>
    /// <returns>The ring size in bytes.</returns>
    public static ulong GetUsedRingSize(int queueSize) => 6 + ((ulong)(uint)queueSize * UsedEntrySize);

    private static bool IsValidQueueSize(int size) => size >= 1 && size <= MaxQueueSize && (size & (size - 1)) == 0;
}
