// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <summary>
/// A validated descriptor chain: every descriptor was read once from guest memory, checked, and
/// copied (indirect tables flattened). Valid until the next pop or read from the same queue.
/// </summary>
/// <remarks>
/// <para>Guest-controlled. Every buffer range was checked to lie entirely in guest memory with the
/// access its flags imply, the readable buffers come before the writable ones, the chain has at
/// most <see cref="SplitQueue.Size"/> buffers and its total length is below 2^32 bytes
/// (VIRTIO 1.3 §2.7.5.2 "Driver Requirements: The Virtqueue Descriptor Table").</para>
/// <para>The buffers themselves can still change under the device: read each field once
/// (<see cref="CreateReader"/> copies) and decide on the copy.</para>
/// </remarks>
public readonly ref struct DescriptorChain
{
    private readonly ReadOnlySpan<Descriptor> _descriptors;
    private readonly RegionGuestMemory? _regions; // Memory when it is a RegionGuestMemory (resolved once by the queue)
    private readonly int _readableCount;

    internal DescriptorChain(IGuestMemory memory, RegionGuestMemory? regions, ushort headIndex, ReadOnlySpan<Descriptor> descriptors, int readableCount, uint readableLength, uint writableLength)
    {
        Memory = memory;
        _regions = regions;
        HeadIndex = headIndex;
        _descriptors = descriptors;
        _readableCount = readableCount;
        ReadableLength = readableLength;
        WritableLength = writableLength;
    }

    /// <summary>The memory the buffers live in.</summary>
    public IGuestMemory Memory { get; }

    /// <summary>The head index to pass to <see cref="SplitQueue.AddUsed(ushort, uint)"/>.</summary>
    public ushort HeadIndex { get; }

    /// <summary>The flattened buffer descriptors: readable ones first, then writable ones; indirect pointers removed.</summary>
    public ReadOnlySpan<Descriptor> Descriptors => _descriptors;

    /// <summary>The device-readable descriptors (a prefix of <see cref="Descriptors"/>).</summary>
    public ReadOnlySpan<Descriptor> ReadableDescriptors => _descriptors.Slice(0, _readableCount);

    /// <summary>The device-writable descriptors (the rest of <see cref="Descriptors"/>).</summary>
    public ReadOnlySpan<Descriptor> WritableDescriptors => _descriptors.Slice(_readableCount);

    /// <summary>Total bytes in device-readable buffers.</summary>
    public uint ReadableLength { get; }

    /// <summary>Total bytes in device-writable buffers.</summary>
    public uint WritableLength { get; }

    /// <summary>Enumerates the flattened descriptors.</summary>
    /// <returns>An enumerator.</returns>
    public ReadOnlySpan<Descriptor>.Enumerator GetEnumerator() => _descriptors.GetEnumerator();

    /// <summary>A gather reader across the device-readable buffers.</summary>
    /// <returns>A reader positioned at the first readable byte.</returns>
    public DescriptorChainReader CreateReader() => new(Memory, _regions, _descriptors.Slice(0, _readableCount), ReadableLength);

    /// <summary>A scatter writer across the device-writable buffers.</summary>
    /// <returns>A writer positioned at the first writable byte.</returns>
    public DescriptorChainWriter CreateWriter() => new(Memory, _regions, _descriptors.Slice(_readableCount), WritableLength);
}
