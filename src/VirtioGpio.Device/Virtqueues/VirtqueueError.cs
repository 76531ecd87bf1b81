// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Virtqueues;

/// <summary>
/// Why the split-virtqueue engine refused a ring or a descriptor chain. Every value is a distinct
/// guest fault; none is ever thrown. See docs/virtqueue.md for the spec clause of each.
/// </summary>
public enum VirtqueueError : byte
{
    /// <summary>No error.</summary>
    None = 0,

    // ----- chain-level: the chain is completed with used length 0, neighbours are unaffected -----

    /// <summary>A descriptor's <c>addr + len</c> wraps past 2^64.</summary>
    AddressOverflow,

    /// <summary>A descriptor, indirect table or ring range is not (entirely) inside guest memory, or lacks the needed permission.</summary>
    GuestMemoryUnavailable,

    /// <summary>A <c>next</c> field is not below the table size (queue size, or the indirect table's entry count).</summary>
    InvalidDescriptorIndex,

    /// <summary>The chain visits more descriptors than the queue size allows: a loop or an overlong chain.</summary>
    ChainTooLong,

    /// <summary>An indirect descriptor inside an indirect table.</summary>
    NestedIndirectTable,

    /// <summary>An indirect table length that is zero, not a multiple of 16, or longer than allowed.</summary>
    InvalidIndirectTableLength,

    /// <summary>A descriptor has both INDIRECT and NEXT set.</summary>
    IndirectWithNext,

    /// <summary>An INDIRECT descriptor although VIRTIO_F_RING_INDIRECT_DESC was not negotiated.</summary>
    IndirectNotNegotiated,

    /// <summary>The chain's total length exceeds 2^32 bytes.</summary>
    ChainLengthOverflow,

    /// <summary>A device-readable descriptor follows a device-writable one.</summary>
    ReadableAfterWritable,

    // ----- ring-level: the queue is marked broken and the device sets DEVICE_NEEDS_RESET -----

    /// <summary><c>avail.idx</c> moved ahead of the device's next-avail index by more than the queue size.</summary>
    AvailIndexOutOfRange,

    /// <summary>A head index read from the avail ring is not below the queue size.</summary>
    InvalidHeadIndex,

    /// <summary>The avail ring, used ring or descriptor table could not be accessed.</summary>
    RingMemoryUnavailable,

    /// <summary>The queue is not ready (size, addresses or memory missing, or not enabled).</summary>
    QueueNotReady,

    /// <summary>A head index passed to <see cref="SplitQueue.AddUsed(ushort, uint)"/> is out of range or was not popped (host programming error, reported rather than thrown on the hot path).</summary>
    InvalidUsedHead,

    /// <summary>The queue was marked broken by an earlier ring-level error and processes nothing until reset.</summary>
    QueueBroken,

    // ----- chain-level (appended to keep earlier values stable) -----

    /// <summary>The avail ring offered a head the device still holds (popped and not yet completed). The duplicate is
    /// counted and skipped, not completed: completing it would complete the held chain twice.</summary>
    HeadAlreadyInFlight,
}
