// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing;

/// <summary>A chain the <see cref="SimulatedVirtioDriver"/> placed on the avail ring, with everything a test needs to check the device's handling of it.</summary>
public sealed class SubmittedChain
{
    internal SubmittedChain(
        ushort headIndex,
        ChainShape shape,
        DriverBuffer[] buffers,
        ushort[] descriptorIndices,
        GuestRange? indirectTable,
        ushort availIndex,
        List<GuestRange> ownedBlocks)
    {
        HeadIndex = headIndex;
        Shape = shape;
        Buffers = buffers;
        DescriptorIndices = descriptorIndices;
        IndirectTable = indirectTable;
        AvailIndex = availIndex;
        OwnedBlocks = ownedBlocks;
        var readable = new List<GuestRange>();
        var writable = new List<GuestRange>();
        foreach (DriverBuffer buffer in buffers)
        {
            if (buffer.IsDeviceWritable)
            {
                WritableLength += buffer.Length;
                writable.Add(buffer.Range);
            }
            else
            {
                ReadableLength += buffer.Length;
                readable.Add(buffer.Range);
            }
        }

        ReadableRanges = readable;
        WritableRanges = writable;
    }

    /// <summary>The head descriptor index the device reports back in the used element's <c>id</c>.</summary>
    public ushort HeadIndex { get; }

    /// <summary>How the buffers were arranged.</summary>
    public ChainShape Shape { get; }

    /// <summary>The buffers in chain order (readable ones first when the caller passed them so).</summary>
    public IReadOnlyList<DriverBuffer> Buffers { get; }

    /// <summary>The entries of the ring's descriptor table this chain occupies, in chain order (the last one is the INDIRECT descriptor for indirect shapes).</summary>
    public IReadOnlyList<ushort> DescriptorIndices { get; }

    /// <summary>The indirect table, if the shape has one (16 bytes per entry).</summary>
    public GuestRange? IndirectTable { get; }

    /// <summary>The free-running avail index at which the head was placed (<c>avail.ring[AvailIndex % N]</c>).</summary>
    public ushort AvailIndex { get; }

    /// <summary>Total bytes of device-readable buffers.</summary>
    public uint ReadableLength { get; }

    /// <summary>Total bytes of device-writable buffers.</summary>
    public uint WritableLength { get; }

    /// <summary>The device-readable buffers' ranges, in order.</summary>
    public IReadOnlyList<GuestRange> ReadableRanges { get; }

    /// <summary>The device-writable buffers' ranges, in order (the only chain memory the device may write).</summary>
    public IReadOnlyList<GuestRange> WritableRanges { get; }

    /// <summary>Whether the device returned the chain and the driver took it from the used ring.</summary>
    public bool IsCompleted => Completion is not null;

    /// <summary>The completion, once taken from the used ring.</summary>
    public DriverCompletion? Completion { get; internal set; }

    /// <summary>Free for the caller's use (for example a request handle).</summary>
    public object? State { get; set; }

    internal List<GuestRange> OwnedBlocks { get; }

    /// <inheritdoc/>
    public override string ToString() => $"head {HeadIndex} {Shape} [{string.Join(", ", Buffers)}]";
}
