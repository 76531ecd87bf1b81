// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Transport.VhostUser.Inflight;

/// <summary>
/// Keeps one queue's split-ring inflight state in the shared region, following the algorithm of
/// qemu vhost-user.rst "Inflight I/O tracking" (VHOST-USER.md §10): set <c>counter</c> then
/// <c>inflight</c> on take; link the batch through <c>next</c>/<c>last_batch_head</c> before
/// <c>used->idx</c> moves; clear <c>inflight</c> and record <c>used_idx</c> after it moved.
/// </summary>
/// <remarks>Called on the queue's worker inside the device's serialisation; never throws or allocates.
/// Heads at or above <c>desc_num</c> are ignored (the queue engine rejects them anyway).</remarks>
internal sealed unsafe class InflightQueueTracker : ISplitQueueTracker
{
    private readonly byte* _region;
    private readonly int _descNum;
    private readonly ushort[] _batch;
    private int _batchCount;
    private ulong _counter;

    /// <summary>Creates a tracker over one queue region of <paramref name="owner"/>.</summary>
    public InflightQueueTracker(InflightRegion owner, int queueIndex)
    {
        Owner = owner;
        _region = (byte*)owner.GetQueuePointer(queueIndex);
        _descNum = owner.QueueSize;
        _batch = new ushort[_descNum];

        // Continue after the largest counter already recorded (a restarted back-end).
        for (int i = 0; i < _descNum; i++)
        {
            ulong counter = ReadCounter(i);
            if (counter > _counter)
            {
                _counter = counter;
            }
        }
    }

    /// <summary>The region this tracker writes into.</summary>
    public InflightRegion Owner { get; }

    private Span<byte> Header => new(_region, InflightRegion.DescriptorsOffset);

    private byte* Descriptor(int head) => _region + InflightRegion.DescriptorsOffset + ((nint)head * InflightRegion.DescriptorStateSize);

    /// <inheritdoc/>
    public void OnPopped(ushort headIndex)
    {
        if (headIndex >= _descNum)
        {
            return;
        }

        byte* desc = Descriptor(headIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(desc + InflightRegion.CounterFieldOffset, 8), ++_counter);
        Volatile.Write(ref desc[InflightRegion.InflightFieldOffset], 1); // counter first, then inflight
    }

    /// <inheritdoc/>
    public void OnCompleting(ushort headIndex)
    {
        if (headIndex >= _descNum)
        {
            return;
        }

        Span<byte> header = Header;
        ushort last = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(InflightRegion.LastBatchHeadOffset));
        BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(Descriptor(headIndex) + InflightRegion.NextFieldOffset, 2), last);
        BinaryPrimitives.WriteUInt16LittleEndian(header.Slice(InflightRegion.LastBatchHeadOffset), headIndex);
        if (_batchCount < _batch.Length)
        {
            _batch[_batchCount++] = headIndex;
        }
    }

    /// <inheritdoc/>
    public void OnUsedIndexPublished(ushort usedIndex)
    {
        for (int i = 0; i < _batchCount; i++)
        {
            Volatile.Write(ref Descriptor(_batch[i])[InflightRegion.InflightFieldOffset], 0);
        }

        _batchCount = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(Header.Slice(InflightRegion.UsedIdxOffset), usedIndex);
    }

    /// <summary>
    /// Recovery at ring start after a reconnect (VHOST-USER.md §10 "On reconnect"): completes the
    /// bookkeeping of a batch that was published but not recorded, then returns every head still
    /// in flight, in increasing counter order.
    /// </summary>
    /// <param name="ringUsedIndex"><c>used->idx</c> as read from guest memory.</param>
    /// <param name="queueSize">The ring size (heads at or above it are dropped).</param>
    /// <returns>The heads to resubmit.</returns>
    public ushort[] Recover(ushort ringUsedIndex, int queueSize)
    {
        Span<byte> header = Header;
        ushort recordedUsed = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(InflightRegion.UsedIdxOffset));
        if (recordedUsed != ringUsedIndex)
        {
            int pending = unchecked((ushort)(ringUsedIndex - recordedUsed)); // wraps by design: 16-bit ring index
            ushort head = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(InflightRegion.LastBatchHeadOffset));
            for (int i = 0; i < pending && i < _descNum && head < _descNum; i++)
            {
                byte* desc = Descriptor(head);
                desc[InflightRegion.InflightFieldOffset] = 0;
                head = BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(desc + InflightRegion.NextFieldOffset, 2));
            }

            BinaryPrimitives.WriteUInt16LittleEndian(header.Slice(InflightRegion.UsedIdxOffset), ringUsedIndex);
        }

        _batchCount = 0;
        int limit = Math.Min(_descNum, queueSize);
        List<(ulong Counter, ushort Head)> heads = new();
        for (int i = 0; i < limit; i++)
        {
            if (Descriptor(i)[InflightRegion.InflightFieldOffset] == 1)
            {
                heads.Add((ReadCounter(i), (ushort)i));
            }
        }

        heads.Sort(static (a, b) => a.Counter.CompareTo(b.Counter));
        return heads.Select(static h => h.Head).ToArray();
    }

    private ulong ReadCounter(int head)
        => BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(Descriptor(head) + InflightRegion.CounterFieldOffset, 8));
}
