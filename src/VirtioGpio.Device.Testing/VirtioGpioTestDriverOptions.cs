// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Testing;

/// <summary>Settings of a <see cref="VirtioGpioTestDriver"/>. The defaults behave like Linux's <c>gpio-virtio</c> on a modern transport.</summary>
public sealed class VirtioGpioTestDriverOptions
{
    /// <summary>Features the driver accepts if the device offers them (default: VERSION_1, RING_INDIRECT_DESC, RING_EVENT_IDX and VIRTIO_GPIO_F_IRQ, as Linux negotiates).</summary>
    public ulong RequestedFeatures { get; set; } =
        VirtioFeatures.Version1 | VirtioFeatures.RingIndirectDesc | VirtioFeatures.RingEventIdx | VirtioGpioTestDriver.FeatureIrq;

    /// <summary>Queue size to configure, capped at each queue's maximum (default 256; a power of two, 1..32768).</summary>
    public int QueueSize { get; set; } = 256;

    /// <summary>Fill byte written into every response buffer before submission (default 0xAA), so bytes the device failed to write stand out; <see langword="null"/> leaves the memory as it is.</summary>
    public byte? ResponseFillByte { get; set; } = 0xAA;

    /// <summary>How long to wait for a completion before failing with <see cref="TimeoutException"/> (default 5 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Descriptor arrangement for every message; <see langword="null"/> (default) = Linux: one indirect descriptor when RING_INDIRECT_DESC was negotiated, two direct descriptors otherwise.</summary>
    public ChainShape? ShapeOverride { get; set; }

    /// <summary>Kick only when the device asked for it (used.flags / avail_event), as Linux does (default <see langword="true"/>); <see langword="false"/> kicks after every publish.</summary>
    public bool KickOnlyWhenNeeded { get; set; } = true;

    /// <summary>Bytes of guest memory for buffers and indirect tables, on top of the rings (default 1 MiB; the names block is added).</summary>
    public int BufferAreaSize { get; set; } = 1 << 20;

    /// <summary>Optional wrapper for the memory handed to the device, for example <c>m =&gt; new RecordingGuestMemory(m)</c>.</summary>
    public Func<IGuestMemory, IGuestMemory>? DeviceMemoryWrapper { get; set; }
}
