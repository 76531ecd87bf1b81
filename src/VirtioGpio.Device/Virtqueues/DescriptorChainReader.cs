// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <summary>Gathers bytes across a chain's device-readable buffers, whatever the driver's split (VIRTIO 1.3 §2.6.4 "Message Framing").</summary>
public ref struct DescriptorChainReader
{
    internal DescriptorChainReader(IGuestMemory memory, ReadOnlySpan<Descriptor> descriptors) => throw new NotImplementedException();

    /// <summary>Readable bytes not yet consumed.</summary>
    public readonly uint Remaining => throw new NotImplementedException();

    /// <summary>The memory error that stopped the last read, if any.</summary>
    public readonly GuestMemoryError LastError => throw new NotImplementedException();

    /// <summary>Reads exactly <c>destination.Length</c> bytes, or nothing.</summary>
    /// <param name="destination">Receives the bytes.</param>
    /// <returns><see langword="false"/> when fewer bytes remain or memory failed.</returns>
    public bool TryReadExactly(Span<byte> destination) => throw new NotImplementedException();

    /// <summary>Reads up to <c>destination.Length</c> bytes.</summary>
    /// <param name="destination">Receives the bytes.</param>
    /// <returns>The number of bytes read.</returns>
    public int Read(Span<byte> destination) => throw new NotImplementedException();
}
