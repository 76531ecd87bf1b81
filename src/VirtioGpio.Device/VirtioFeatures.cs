// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device;

/// <summary>Device-independent feature bits as masks (VIRTIO 1.3 §6 "Reserved Feature Bits").</summary>
public static class VirtioFeatures
{
    /// <summary>VIRTIO_F_NOTIFY_ON_EMPTY (bit 24, legacy).</summary>
    public const ulong NotifyOnEmpty = 1UL << 24;

    /// <summary>VIRTIO_F_RING_INDIRECT_DESC (bit 28).</summary>
    public const ulong RingIndirectDesc = 1UL << 28;

    /// <summary>VIRTIO_F_RING_EVENT_IDX (bit 29).</summary>
    public const ulong RingEventIdx = 1UL << 29;

    /// <summary>VIRTIO_F_VERSION_1 (bit 32).</summary>
    public const ulong Version1 = 1UL << 32;

    /// <summary>VIRTIO_F_ACCESS_PLATFORM (bit 33).</summary>
    public const ulong AccessPlatform = 1UL << 33;

    /// <summary>VIRTIO_F_RING_PACKED (bit 34).</summary>
    public const ulong RingPacked = 1UL << 34;

    /// <summary>VIRTIO_F_IN_ORDER (bit 35).</summary>
    public const ulong InOrder = 1UL << 35;

    /// <summary>VIRTIO_F_RING_RESET (bit 40).</summary>
    public const ulong RingReset = 1UL << 40;
}
