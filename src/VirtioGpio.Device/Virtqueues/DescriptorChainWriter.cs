// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <summary>Scatters bytes across a chain's device-writable buffers; never touches readable ones (VIRTIO 1.3 §2.7.4 "Message Framing").</summary>
public ref struct DescriptorChainWriter
{
    internal DescriptorChainWriter(IGuestMemory memory, ReadOnlySpan<Descriptor> descriptors) => throw new NotImplementedException();

    /// <summary>Bytes written so far: the used length to report.</summary>
    public readonly uint BytesWritten => throw new NotImplementedException();

    /// <summary>Writable bytes left.</summary>
    public readonly uint Remaining => throw new NotImplementedException();

    /// <summary>The memory error that stopped the last write, if any.</summary>
    public readonly GuestMemoryError LastError => throw new NotImplementedException();

    /// <summary>Writes as much of <paramref name="source"/> as fits.</summary>
    /// <param name="source">Bytes to write.</param>
    /// <returns>The number of bytes written.</returns>
    public int Write(ReadOnlySpan<byte> source) => throw new NotImplementedException();

    /// <summary>Writes all of <paramref name="source"/>, or nothing when it does not fit.</summary>
    /// <param name="source">Bytes to write.</param>
    /// <returns><see langword="false"/> when it does not fit or memory failed.</returns>
    public bool TryWriteExactly(ReadOnlySpan<byte> source) => throw new NotImplementedException();
}
