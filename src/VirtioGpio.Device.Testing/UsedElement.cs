// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing;

/// <summary>One used-ring element as the device wrote it: <c>le32 id; le32 len</c> (VIRTIO 1.3 §2.7.8 "The Virtqueue Used Ring").</summary>
/// <param name="Id">The head descriptor index (32-bit on the wire; a correct device writes a value below the queue size).</param>
/// <param name="Length">Bytes the device says it wrote into the chain's writable buffers.</param>
public readonly record struct UsedElement(uint Id, uint Length);
