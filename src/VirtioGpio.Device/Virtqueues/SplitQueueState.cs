// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <summary>
/// The device-side state of a split virtqueue that must survive a stop/start: what vhost-user
/// GET/SET_VRING_BASE and migration carry.
/// </summary>
/// <param name="Size">Queue size (a power of two), or 0 when unset.</param>
/// <param name="DescriptorTable">Guest address of the descriptor table.</param>
/// <param name="AvailRing">Guest address of the avail (driver) ring.</param>
/// <param name="UsedRing">Guest address of the used (device) ring.</param>
/// <param name="NextAvailIndex">Free-running count of chains taken from the avail ring.</param>
/// <param name="NextUsedIndex">Free-running count of used entries published.</param>
public readonly record struct SplitQueueState(
    ushort Size,
    GuestAddress DescriptorTable,
    GuestAddress AvailRing,
    GuestAddress UsedRing,
    ushort NextAvailIndex,
    ushort NextUsedIndex);
