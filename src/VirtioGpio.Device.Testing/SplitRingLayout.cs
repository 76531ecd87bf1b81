// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Testing;

/// <summary>
/// Where the three parts of a split virtqueue live in guest memory (VIRTIO 1.3 §2.7 "Split
/// Virtqueues"): descriptor table (16·N bytes, 16-aligned), avail ring (<c>flags, idx, ring[N],
/// used_event</c>: 6 + 2·N bytes, 2-aligned) and used ring (<c>flags, idx, ring[N]{id, len},
/// avail_event</c>: 6 + 8·N bytes, 4-aligned).
/// </summary>
/// <remarks>The constructor does not validate alignment or overlap, so a test can describe a
/// deliberately broken layout and check that the device refuses it.</remarks>
public readonly struct SplitRingLayout
{
    /// <summary>Describes a layout without validating it.</summary>
    /// <param name="queueSize">Queue size N.</param>
    /// <param name="descriptorTable">Descriptor table address.</param>
    /// <param name="availRing">Avail (driver) ring address.</param>
    /// <param name="usedRing">Used (device) ring address.</param>
    public SplitRingLayout(int queueSize, GuestAddress descriptorTable, GuestAddress availRing, GuestAddress usedRing)
    {
        QueueSize = queueSize;
        DescriptorTable = descriptorTable;
        AvailRing = availRing;
        UsedRing = usedRing;
    }

    /// <summary>Queue size N.</summary>
    public int QueueSize { get; }

    /// <summary>Descriptor table address.</summary>
    public GuestAddress DescriptorTable { get; }

    /// <summary>Avail (driver area) ring address.</summary>
    public GuestAddress AvailRing { get; }

    /// <summary>Used (device area) ring address.</summary>
    public GuestAddress UsedRing { get; }

    /// <summary>Bytes of the descriptor table: 16·N.</summary>
    public ulong DescriptorTableSize => 16UL * (ulong)QueueSize;

    /// <summary>Bytes of the avail ring including <c>used_event</c>: 6 + 2·N.</summary>
    public ulong AvailRingSize => 6UL + (2UL * (ulong)QueueSize);

    /// <summary>Bytes of the used ring including <c>avail_event</c>: 6 + 8·N.</summary>
    public ulong UsedRingSize => 6UL + (8UL * (ulong)QueueSize);

    /// <summary>The descriptor table's range.</summary>
    public GuestRange DescriptorTableRange => new(DescriptorTable, DescriptorTableSize);

    /// <summary>The avail ring's range (including <c>used_event</c>).</summary>
    public GuestRange AvailRingRange => new(AvailRing, AvailRingSize);

    /// <summary>The used ring's range (including <c>avail_event</c>): the only ring memory a device may write.</summary>
    public GuestRange UsedRingRange => new(UsedRing, UsedRingSize);

    /// <summary>Address of <c>avail.flags</c>.</summary>
    public GuestAddress AvailFlagsAddress => AvailRing;

    /// <summary>Address of <c>avail.idx</c>.</summary>
    public GuestAddress AvailIndexAddress => new(AvailRing.Value + 2);

    /// <summary>Address of <c>used_event</c> (after <c>avail.ring[N]</c>).</summary>
    public GuestAddress UsedEventAddress => new(AvailRing.Value + 4 + (2UL * (ulong)QueueSize));

    /// <summary>Address of <c>used.flags</c>.</summary>
    public GuestAddress UsedFlagsAddress => UsedRing;

    /// <summary>Address of <c>used.idx</c>.</summary>
    public GuestAddress UsedIndexAddress => new(UsedRing.Value + 2);

    /// <summary>Address of <c>avail_event</c> (after <c>used.ring[N]</c>).</summary>
    public GuestAddress AvailEventAddress => new(UsedRing.Value + 4 + (8UL * (ulong)QueueSize));

    /// <summary>One past the highest byte any of the three parts uses.</summary>
    public ulong EndExclusive => Math.Max(DescriptorTableRange.EndExclusive, Math.Max(AvailRingRange.EndExclusive, UsedRingRange.EndExclusive));

    /// <summary>Address of descriptor <paramref name="index"/> in the table.</summary>
    /// <param name="index">Descriptor index (not range-checked, so raw tests can compute out-of-table addresses).</param>
    /// <returns>The address.</returns>
    public GuestAddress DescriptorAddress(int index) => new(DescriptorTable.Value + (16UL * (ulong)(uint)index));

    /// <summary>Address of <c>avail.ring[slot]</c>.</summary>
    /// <param name="slot">Ring slot 0 .. N - 1.</param>
    /// <returns>The address.</returns>
    public GuestAddress AvailEntryAddress(int slot) => new(AvailRing.Value + 4 + (2UL * (ulong)(uint)slot));

    /// <summary>Address of <c>used.ring[slot]</c> (<c>le32 id; le32 len</c>).</summary>
    /// <param name="slot">Ring slot 0 .. N - 1.</param>
    /// <returns>The address.</returns>
    public GuestAddress UsedEntryAddress(int slot) => new(UsedRing.Value + 4 + (8UL * (ulong)(uint)slot));

    /// <summary>
    /// Lays the parts out back to back from <paramref name="baseAddress"/> with the spec's minimum
    /// alignments (16, 2, 4): descriptor table, then avail ring, then used ring.
    /// </summary>
    /// <param name="queueSize">A power of two, 1..32768.</param>
    /// <param name="baseAddress">A 16-byte aligned start address.</param>
    /// <returns>The layout.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The size is not a power of two in range or the base is misaligned.</exception>
    public static SplitRingLayout Compact(int queueSize, GuestAddress baseAddress)
    {
        ValidateQueueSize(queueSize);
        if (!baseAddress.IsAligned(16))
        {
            throw new ArgumentOutOfRangeException(nameof(baseAddress), "The descriptor table must be 16-byte aligned.");
        }

        ulong desc = baseAddress.Value;
        ulong avail = desc + (16UL * (ulong)queueSize);
        ulong used = AlignUp(avail + 6UL + (2UL * (ulong)queueSize), 4);
        return new SplitRingLayout(queueSize, new GuestAddress(desc), new GuestAddress(avail), new GuestAddress(used));
    }

    /// <summary>
    /// The legacy (virtio 0.9 / Linux <c>vring_init</c>) shape: descriptor table and avail ring
    /// contiguous, the used ring at the next multiple of <paramref name="alignment"/> (4096 for PCI legacy).
    /// </summary>
    /// <param name="queueSize">A power of two, 1..32768.</param>
    /// <param name="baseAddress">A page-aligned start address.</param>
    /// <param name="alignment">Used-ring alignment, a power of two ≥ 4.</param>
    /// <returns>The layout.</returns>
    public static SplitRingLayout Legacy(int queueSize, GuestAddress baseAddress, ulong alignment = 4096)
    {
        ValidateQueueSize(queueSize);
        if (alignment < 4 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), "The alignment must be a power of two of at least 4.");
        }

        SplitRingLayout compact = Compact(queueSize, baseAddress);
        ulong used = AlignUp(compact.AvailRing.Value + compact.AvailRingSize, alignment);
        return new SplitRingLayout(queueSize, compact.DescriptorTable, compact.AvailRing, new GuestAddress(used));
    }

    /// <summary>
    /// The layout of bench/WORKLOAD.md: descriptor table at 0x0, avail ring at 0x1000, used ring at
    /// 0x2000 (offset by <paramref name="baseAddress"/>). Fits queue sizes up to 256.
    /// </summary>
    /// <param name="queueSize">A power of two, 1..256 (the workload uses 256).</param>
    /// <param name="baseAddress">Added to every address (0 in the workload).</param>
    /// <returns>The layout.</returns>
    public static SplitRingLayout Workload(int queueSize = 256, ulong baseAddress = 0)
    {
        ValidateQueueSize(queueSize);
        if (queueSize > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(queueSize), "The 0x0/0x1000/0x2000 layout holds at most 256 entries.");
        }

        return new SplitRingLayout(queueSize, new GuestAddress(baseAddress), new GuestAddress(baseAddress + 0x1000), new GuestAddress(baseAddress + 0x2000));
    }

    /// <summary>Throws unless <paramref name="queueSize"/> is a power of two in 1..32768 (VIRTIO 1.3 §2.7 "Queue Size … a power of 2 … maximum 32768").</summary>
    /// <param name="queueSize">The size to check.</param>
    /// <exception cref="ArgumentOutOfRangeException">The size is invalid.</exception>
    public static void ValidateQueueSize(int queueSize)
    {
        if (queueSize < 1 || queueSize > 32768 || (queueSize & (queueSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(queueSize), queueSize, "A split queue size is a power of two in 1..32768.");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"N={QueueSize} desc {DescriptorTable} avail {AvailRing} used {UsedRing}";

    internal static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);
}
