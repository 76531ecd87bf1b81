// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing;

/// <summary>A used element the <see cref="SimulatedVirtioDriver"/> took from the used ring, with a snapshot of what the device wrote.</summary>
public sealed class DriverCompletion
{
    internal DriverCompletion(ushort usedIndex, UsedElement element, SubmittedChain? chain, byte[] writableBytes)
    {
        UsedIndex = usedIndex;
        Element = element;
        Chain = chain;
        WritableBytes = writableBytes;
    }

    /// <summary>The free-running used index of this element (<c>used.ring[UsedIndex % N]</c>).</summary>
    public ushort UsedIndex { get; }

    /// <summary>The element exactly as read from the ring.</summary>
    public UsedElement Element { get; }

    /// <summary>The <c>id</c> field: the head index the device returned.</summary>
    public uint Id => Element.Id;

    /// <summary>The <c>len</c> field: bytes the device says it wrote.</summary>
    public uint Length => Element.Length;

    /// <summary>The chain the id refers to, or <see langword="null"/> when the id was not an outstanding head of a chain added by <see cref="SimulatedVirtioDriver.AddChain(ReadOnlySpan{DriverBuffer}, ChainShape)"/> (raw chains, or a device bug: an unknown or repeated id).</summary>
    public SubmittedChain? Chain { get; }

    /// <summary>Whether <see cref="Id"/> matched an outstanding tracked chain.</summary>
    public bool IsTracked => Chain is not null;

    /// <summary>Every writable byte of the chain, concatenated in chain order, copied when the element was taken (bytes past <see cref="Length"/> show whether the device wrote beyond what it reported). Empty for untracked ids.</summary>
    public byte[] WritableBytes { get; }

    /// <summary>The first <c>min(Length, writable size)</c> bytes: what the device reports it wrote.</summary>
    public ReadOnlyMemory<byte> Written => WritableBytes.AsMemory(0, (int)Math.Min(Length, (uint)WritableBytes.Length));

    /// <summary>Whether the reported length exceeds the chain's writable bytes (a device bug: VIRTIO 1.3 §2.7.8.1 the length must not exceed what was written).</summary>
    public bool LengthExceedsWritable => Chain is not null && Length > Chain.WritableLength;

    /// <inheritdoc/>
    public override string ToString() => $"used[{UsedIndex}] id {Id} len {Length}" + (IsTracked ? string.Empty : " (untracked)");
}
