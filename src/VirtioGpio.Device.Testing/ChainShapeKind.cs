// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing;

/// <summary>How a <see cref="SimulatedVirtioDriver"/> turns a list of buffers into descriptors.</summary>
public enum ChainShapeKind
{
    /// <summary>One descriptor per buffer in the ring's descriptor table, linked with VIRTQ_DESC_F_NEXT.</summary>
    Direct,

    /// <summary>One VIRTQ_DESC_F_INDIRECT descriptor in the ring's table pointing to a table holding every buffer (what Linux does for any multi-buffer request when VIRTIO_F_RING_INDIRECT_DESC is negotiated).</summary>
    Indirect,

    /// <summary>Some direct descriptors followed by one indirect descriptor holding the rest (VIRTIO 1.3 §2.7.5.3.2: "zero or more normal chained descriptors followed by a single descriptor with flags&amp;VIRTQ_DESC_F_INDIRECT").</summary>
    DirectThenIndirect,
}
