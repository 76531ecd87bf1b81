// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Virtqueues;

/// <summary>Split-ring descriptor flags (VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table").</summary>
[Flags]
public enum DescriptorFlags : ushort
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary><c>VIRTQ_DESC_F_NEXT</c>: the chain continues with the descriptor named by <c>next</c>.</summary>
    Next = 1,

    /// <summary><c>VIRTQ_DESC_F_WRITE</c>: the buffer is device-writable.</summary>
    Write = 2,

    /// <summary><c>VIRTQ_DESC_F_INDIRECT</c>: the buffer holds a table of indirect descriptors.</summary>
    Indirect = 4,
}
