// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <summary>
/// A validated descriptor chain: every descriptor was read once from guest memory, checked, and
/// copied (indirect tables flattened). Valid until the next pop from the same queue.
/// </summary>
public readonly ref struct DescriptorChain
{
    private readonly ReadOnlySpan<Descriptor> _descriptors;

    internal DescriptorChain(IGuestMemory memory, ushort headIndex, ReadOnlySpan<Descriptor> descriptors, uint readableLength, uint writableLength)
    {
        Memory = memory;
        HeadIndex = headIndex;
        _descriptors = descriptors;
        ReadableLength = readableLength;
        WritableLength = writableLength;
    }

    /// <summary>The memory the buffers live in.</summary>
    public IGuestMemory Memory { get; }

    /// <summary>The head index to pass to <see cref="SplitQueue.AddUsed(ushort, uint)"/>.</summary>
    public ushort HeadIndex { get; }

    /// <summary>The flattened buffer descriptors: readable ones first, then writable ones; indirect pointers removed.</summary>
    public ReadOnlySpan<Descriptor> Descriptors => _descriptors;

    /// <summary>Total bytes in device-readable buffers.</summary>
    public uint ReadableLength { get; }

    /// <summary>Total bytes in device-writable buffers.</summary>
    public uint WritableLength { get; }

    /// <summary>Enumerates the flattened descriptors.</summary>
    /// <returns>An enumerator.</returns>
    public ReadOnlySpan<Descriptor>.Enumerator GetEnumerator() => _descriptors.GetEnumerator();

    /// <summary>A gather reader across the device-readable buffers.</summary>
    /// <returns>A reader positioned at the first readable byte.</returns>
    public DescriptorChainReader CreateReader() => new(Memory, _descriptors);

    /// <summary>A scatter writer across the device-writable buffers.</summary>
    /// <returns>A writer positioned at the first writable byte.</returns>
    public DescriptorChainWriter CreateWriter() => new(Memory, _descriptors);
}
