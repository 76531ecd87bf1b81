// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Benchmarks;

/// <summary>
/// The descriptor-chain workload of WORKLOAD.md, shared by the queue-engine benchmarks:
/// one 1 MiB region at guest address 0; one split queue of size 256 with the descriptor table at
/// 0x0, the avail ring at 0x1000 and the used ring at 0x2000; 128 GET_VALUE requests
/// (<c>le16 type 4, le16 gpio = i % 64, le32 0</c>) at 0x10000 + 16·i with 2-byte responses at
/// 0x20000 + 16·i; 64 lines. The driver side is written with raw little-endian stores, the way a
/// guest driver writes the ring.
/// </summary>
public sealed class QueueWorkload
{
    public const int QueueSize = 256;
    public const int Batch = 128;
    public const int LineCount = 64;
    public const ulong DescriptorTable = 0x0;
    public const ulong AvailRing = 0x1000;
    public const ulong UsedRing = 0x2000;
    public const ulong RequestBase = 0x10000;
    public const ulong ResponseBase = 0x20000;
    public const ulong IndirectBase = 0x30000;
    public const ushort GetValue = 0x0004;

    private readonly byte[] _ram = new byte[1 << 20];
    private readonly byte[] _levels = new byte[LineCount];
    private readonly ushort[] _heads = new ushort[Batch];
    private ushort _availIdx;
    private ushort _lastUsed;

    public QueueWorkload(WorkloadShape shape, ChainAccess access = ChainAccess.TypedCopy)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The workload driver writes little-endian rings with host-order stores.");
        }

        Shape = shape;
        Access = access;
        Memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(0), _ram));
        Queue = new SplitQueue(QueueSize)
        {
            Memory = Memory,
            EventIdxEnabled = shape == WorkloadShape.EventIdx,
            IndirectDescriptorsEnabled = shape == WorkloadShape.Indirect,
        };

        for (int line = 0; line < LineCount; line++)
        {
            _levels[line] = (byte)((line * 7 % 3) == 0 ? 1 : 0);
        }

        for (int i = 0; i < Batch; i++)
        {
            Span<byte> request = _ram.AsSpan((int)(RequestBase + (ulong)(16 * i)), 8);
            BinaryPrimitives.WriteUInt16LittleEndian(request, GetValue);
            BinaryPrimitives.WriteUInt16LittleEndian(request.Slice(2), (ushort)(i % LineCount));
            BinaryPrimitives.WriteUInt32LittleEndian(request.Slice(4), 0);
        }

        switch (shape)
        {
            case WorkloadShape.Engine:
            case WorkloadShape.EventIdx:
                for (int i = 0; i < Batch; i++)
                {
                    WriteDescriptor(DescriptorTable, 2 * i, RequestBase + (ulong)(16 * i), 8, DescriptorFlags.Next, (ushort)((2 * i) + 1));
                    WriteDescriptor(DescriptorTable, (2 * i) + 1, ResponseBase + (ulong)(16 * i), 2, DescriptorFlags.Write, 0);
                    _heads[i] = (ushort)(2 * i);
                }

                break;

            case WorkloadShape.Indirect:
                // Each request is one INDIRECT descriptor pointing at a 2-entry table (what Linux does with RING_INDIRECT_DESC).
                for (int i = 0; i < Batch; i++)
                {
                    ulong table = IndirectBase + (ulong)(32 * i);
                    WriteDescriptor(table, 0, RequestBase + (ulong)(16 * i), 8, DescriptorFlags.Next, 1);
                    WriteDescriptor(table, 1, ResponseBase + (ulong)(16 * i), 2, DescriptorFlags.Write, 0);
                    WriteDescriptor(DescriptorTable, i, table, 32, DescriptorFlags.Indirect, 0);
                    _heads[i] = (ushort)i;
                }

                break;

            case WorkloadShape.LongChain:
                // One chain of 128 descriptors: 127 device-readable 8-byte requests, then one device-writable
                // buffer that receives the 127 two-byte responses back to back.
                for (int i = 0; i < Batch - 1; i++)
                {
                    WriteDescriptor(DescriptorTable, i, RequestBase + (ulong)(16 * i), 8, DescriptorFlags.Next, (ushort)(i + 1));
                }

                WriteDescriptor(DescriptorTable, Batch - 1, ResponseBase, 2 * (Batch - 1), DescriptorFlags.Write, 0);
                break;
        }

        if (!Queue.TrySetSize(QueueSize)
            || !Queue.TrySetAddresses(new GuestAddress(DescriptorTable), new GuestAddress(AvailRing), new GuestAddress(UsedRing))
            || Queue.TryActivate() != VirtqueueError.None)
        {
            throw new InvalidOperationException("Queue setup failed.");
        }
    }

    public WorkloadShape Shape { get; }

    /// <summary>How the device side reads requests and writes responses.</summary>
    public ChainAccess Access { get; }

    public RegionGuestMemory Memory { get; }

    public SplitQueue Queue { get; }

    /// <summary>Checksum of the used entries the driver consumed (keeps the consumer loop observable).</summary>
    public ulong UsedChecksum { get; private set; }

    /// <summary>Number of notifications the device decided to send (event-idx variant).</summary>
    public long Notifications { get; private set; }

    /// <summary>One timed iteration: driver publishes, device processes, driver consumes.</summary>
    public void RunIteration()
    {
        PublishBatch();
        if (Shape == WorkloadShape.LongChain)
        {
            ProcessLongChain();
        }
        else
        {
            ProcessRequests();
        }

        if (Shape == WorkloadShape.EventIdx && Queue.NeedsNotification())
        {
            Notifications++;
        }

        ConsumeUsed();
    }

    /// <summary>Driver side, step 1: avail.ring[(avail_idx + k) % 256] = head k; avail.idx += n (release store).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PublishBatch()
    {
        int count = Shape == WorkloadShape.LongChain ? 1 : Batch;
        Span<byte> ring = _ram.AsSpan((int)AvailRing + 4, 2 * QueueSize);
        ReadOnlySpan<ushort> heads = _heads.AsSpan(0, count);
        ushort idx = _availIdx;
        for (int k = 0; k < heads.Length; k++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(ring.Slice(2 * ((idx + k) & (QueueSize - 1))), heads[k]);
        }

        if (Shape == WorkloadShape.EventIdx)
        {
            // used_event: "interrupt me when the last entry of this batch is used".
            BinaryPrimitives.WriteUInt16LittleEndian(_ram.AsSpan((int)AvailRing + 4 + (2 * QueueSize)), unchecked((ushort)(_lastUsed + count - 1)));
        }

        _availIdx = unchecked((ushort)(idx + count)); // wraps by design: 16-bit ring index
        Volatile.Write(ref Unsafe.As<byte, ushort>(ref _ram[AvailRing + 2]), _availIdx);
    }

    /// <summary>
    /// Device side, step 2 (engine): pop, read the 8-byte request, write the 2-byte response, add used. With
    /// <see cref="ChainAccess.TypedCopy"/> the request and response go through
    /// <see cref="DescriptorChain.TryCopyFromReadable{T}(out T)"/> / <see cref="DescriptorChain.TryCopyToWritable{T}(in T)"/>
    /// (what <c>VirtioGpioDevice</c> does); with <see cref="ChainAccess.ReaderWriter"/> through the general gather reader and
    /// scatter writer.
    /// </summary>
    /// <remarks>
    /// Kept a method of its own (a JIT root), as a device's queue handler is: inlined into the benchmark's wrapper
    /// together with the driver side, it would exhaust the inliner's budget for that one root and leave the chain
    /// accessors as calls, which measures the wrapper rather than the engine.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ProcessRequests()
    {
        if (Access == ChainAccess.ReaderWriter)
        {
            ProcessRequestsWithReaderWriter();
            return;
        }

        SplitQueue queue = Queue;
        byte[] levels = _levels;
        while (queue.TryPopAvailable(out DescriptorChain chain, out _))
        {
            uint written = 0;
            if (chain.TryCopyFromReadable(out ulong request))
            {
                // le16 type; le16 gpio; le32 value (the host is little-endian: checked in the constructor).
                ushort type = (ushort)request;
                ushort gpio = (ushort)(request >> 16);
                bool ok = type == GetValue && gpio < (uint)levels.Length;
                ushort response = ok ? (ushort)(levels[gpio] << 8) : (ushort)1; // u8 status; u8 value
                if (chain.TryCopyToWritable(response))
                {
                    written = 2;
                }
            }

            queue.AddUsed(chain.HeadIndex, written);
        }
    }

    private void ProcessRequestsWithReaderWriter()
    {
        SplitQueue queue = Queue;
        byte[] levels = _levels;
        ulong requestBytes = 0;
        ushort responseBytes = 0;
        Span<byte> request = MemoryMarshal.CreateSpan(ref Unsafe.As<ulong, byte>(ref requestBytes), 8);
        Span<byte> response = MemoryMarshal.CreateSpan(ref Unsafe.As<ushort, byte>(ref responseBytes), 2);
        while (queue.TryPopAvailable(out DescriptorChain chain, out _))
        {
            DescriptorChainReader reader = chain.CreateReader();
            uint written = 0;
            if (reader.TryReadExactly(request))
            {
                ushort type = BinaryPrimitives.ReadUInt16LittleEndian(request);
                ushort gpio = BinaryPrimitives.ReadUInt16LittleEndian(request.Slice(2));
                bool ok = type == GetValue && gpio < (uint)levels.Length;
                response[0] = ok ? (byte)0 : (byte)1;
                response[1] = ok ? levels[gpio] : (byte)0;
                DescriptorChainWriter writer = chain.CreateWriter();
                writer.TryWriteExactly(response);
                written = writer.BytesWritten;
            }

            queue.AddUsed(chain.HeadIndex, written);
        }
    }

    private void ProcessLongChain()
    {
        SplitQueue queue = Queue;
        byte[] levels = _levels;
        Span<byte> request = stackalloc byte[8];
        Span<byte> response = stackalloc byte[2];
        while (queue.TryPopAvailable(out DescriptorChain chain, out _))
        {
            DescriptorChainReader reader = chain.CreateReader();
            DescriptorChainWriter writer = chain.CreateWriter();
            while (reader.TryReadExactly(request))
            {
                ushort gpio = BinaryPrimitives.ReadUInt16LittleEndian(request.Slice(2));
                bool ok = BinaryPrimitives.ReadUInt16LittleEndian(request) == GetValue && gpio < (uint)levels.Length;
                response[0] = ok ? (byte)0 : (byte)1;
                response[1] = ok ? levels[gpio] : (byte)0;
                writer.TryWriteExactly(response);
            }

            queue.AddUsed(chain.HeadIndex, writer.BytesWritten);
        }
    }

    /// <summary>Driver side, step 3: load used.idx (acquire) and consume the new entries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ConsumeUsed()
    {
        ushort usedIdx = Volatile.Read(ref Unsafe.As<byte, ushort>(ref _ram[UsedRing + 2]));
        ReadOnlySpan<byte> ring = _ram.AsSpan((int)UsedRing + 4, 8 * QueueSize);
        ulong checksum = UsedChecksum;
        for (ushort i = _lastUsed; i != usedIdx; i = unchecked((ushort)(i + 1)))
        {
            checksum += BinaryPrimitives.ReadUInt64LittleEndian(ring.Slice(8 * (i & (QueueSize - 1)))); // le32 id | le32 len << 32
        }

        _lastUsed = usedIdx;
        UsedChecksum = checksum;
    }

    /// <summary>
    /// Runs one iteration and checks every response and used entry (outside the timed region);
    /// throws when the benchmark would be measuring something else.
    /// </summary>
    public void RunAndVerifyOnce()
    {
        ushort usedBefore = _lastUsed;
        // Poison the responses so stale data cannot pass.
        _ram.AsSpan((int)ResponseBase, 16 * Batch).Fill(0xEE);
        long notificationsBefore = Notifications;
        RunIteration();

        int expectedEntries = Shape == WorkloadShape.LongChain ? 1 : Batch;
        if (unchecked((ushort)(_lastUsed - usedBefore)) != expectedEntries)
        {
            throw new InvalidOperationException($"{Shape}: expected {expectedEntries} used entries, got {unchecked((ushort)(_lastUsed - usedBefore))}.");
        }

        if (Queue.InvalidChainCount != 0 || Queue.IsBroken || Queue.InFlightCount != 0)
        {
            throw new InvalidOperationException($"{Shape}: queue reported invalid chains or broke: {Queue}.");
        }

        for (int k = 0; k < expectedEntries; k++)
        {
            int slot = (usedBefore + k) % QueueSize;
            uint id = BinaryPrimitives.ReadUInt32LittleEndian(_ram.AsSpan((int)UsedRing + 4 + (8 * slot)));
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(_ram.AsSpan((int)UsedRing + 8 + (8 * slot)));
            uint expectedId = Shape == WorkloadShape.LongChain ? 0u : _heads[k];
            uint expectedLen = Shape == WorkloadShape.LongChain ? 2u * (Batch - 1) : 2u;
            if (id != expectedId || len != expectedLen)
            {
                throw new InvalidOperationException($"{Shape}: used entry {k} is ({id}, {len}), expected ({expectedId}, {expectedLen}).");
            }
        }

        int requests = Shape == WorkloadShape.LongChain ? Batch - 1 : Batch;
        for (int i = 0; i < requests; i++)
        {
            int offset = Shape == WorkloadShape.LongChain ? (int)ResponseBase + (2 * i) : (int)ResponseBase + (16 * i);
            byte status = _ram[offset];
            byte value = _ram[offset + 1];
            if (status != 0 || value != _levels[i % LineCount])
            {
                throw new InvalidOperationException($"{Shape}: response {i} is (status {status}, value {value}), expected (0, {_levels[i % LineCount]}).");
            }
        }

        if (Shape == WorkloadShape.EventIdx && Notifications != notificationsBefore + 1)
        {
            throw new InvalidOperationException("event-idx: expected exactly one notification for the batch.");
        }
    }

    private void WriteDescriptor(ulong table, int index, ulong address, uint length, DescriptorFlags flags, ushort next)
    {
        Span<byte> d = _ram.AsSpan((int)table + (16 * index), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(8), length);
        BinaryPrimitives.WriteUInt16LittleEndian(d.Slice(12), (ushort)flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d.Slice(14), next);
    }
}
