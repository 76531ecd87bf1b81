// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Testing;

/// <summary>
/// The driver side of one split virtqueue, laid out in guest memory exactly as a real driver
/// (Linux <c>virtio_ring.c</c>) does: descriptor table, avail ring with <c>used_event</c>, used
/// ring with <c>avail_event</c>, a free-descriptor list, chains added direct, split any way,
/// as one INDIRECT descriptor (Linux style) or direct descriptors followed by an indirect one;
/// <c>avail.idx</c> published with a release store, <c>used.idx</c> read with an acquire load,
/// descriptors recycled on completion. The raw members of the <c>.Raw</c> part write any
/// malformed structure a test asks for.
/// </summary>
/// <remarks>
/// <para>Works purely through <see cref="IGuestMemory"/>, so it drives a device over
/// <see cref="TestGuestMemory"/>, the core's region memory or shared memory of a vhost-user
/// back-end alike. Give the driver the raw memory and the device a
/// <see cref="RecordingGuestMemory"/> or <see cref="FaultInjectingGuestMemory"/> wrapper.</para>
/// <para>Not thread-safe: one test thread drives it. The device may run concurrently (only
/// ring indices are shared, with acquire/release ordering).</para>
/// <para>Linux details reproduced on purpose: the <c>next</c> field of a chain's last descriptor
/// holds the free-list link (devices must ignore <c>next</c> without VIRTQ_DESC_F_NEXT), indirect
/// table entries carry <c>next = i + 1</c> (so the last one points past the table), freed chains go
/// to the front of the free list, and with EVENT_IDX <c>used_event</c> follows the last used index.</para>
/// </remarks>
/// <example>
/// <code>
/// var memory = new TestGuestMemory(1 &lt;&lt; 20);
/// var driver = new SimulatedVirtioDriver(memory, SplitRingLayout.Workload(256));
/// var queue = new SplitQueue(256);
/// driver.ConfigureDeviceQueue(queue);                       // size, addresses, memory, TryActivate
/// SubmittedChain chain = driver.AddChain([request], [2]);     // 8-byte request, 2-byte response
/// driver.Publish();                                         // avail.idx, release store
/// // … the device pops the chain and adds it to the used ring …
/// Assert.True(driver.TryTakeUsed(out DriverCompletion done));
/// Assert.Equal(2u, done.Length);
/// </code>
/// </example>
public sealed partial class SimulatedVirtioDriver
{
    /// <summary>VRING_AVAIL_F_NO_INTERRUPT (VIRTIO 1.3 §2.7.6 "The Virtqueue Available Ring").</summary>
    public const ushort AvailFlagNoInterrupt = 1;

    /// <summary>VRING_USED_F_NO_NOTIFY (VIRTIO 1.3 §2.7.8 "The Virtqueue Used Ring").</summary>
    public const ushort UsedFlagNoNotify = 1;

    private readonly ushort[] _freeNext;            // free-list links, kept outside guest memory like Linux's desc_extra
    private readonly SubmittedChain?[] _outstanding; // by head index
    private int _freeHead;
    private int _freeCount;
    private ushort _availIndex;                     // published avail.idx (shadow)
    private int _staged;                            // heads written to avail.ring but not yet published
    private ushort _lastUsedIndex;
    private ushort _availFlags;

    /// <summary>Creates a driver for a queue at <paramref name="layout"/>, allocating buffers from <paramref name="allocator"/> (which may be shared by several queues in the same memory).</summary>
    /// <param name="memory">Guest memory the driver writes (not a fault-injecting wrapper).</param>
    /// <param name="layout">Where the rings go; the driver zeroes them.</param>
    /// <param name="allocator">Where buffers and indirect tables go.</param>
    /// <exception cref="ArgumentOutOfRangeException">The queue size is not a power of two in 1..32768.</exception>
    /// <exception cref="InvalidOperationException">The rings are not in writable memory.</exception>
    public SimulatedVirtioDriver(IGuestMemory memory, SplitRingLayout layout, GuestBufferAllocator allocator)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(allocator);
        SplitRingLayout.ValidateQueueSize(layout.QueueSize);
        Memory = memory;
        Layout = layout;
        Allocator = allocator;
        _freeNext = new ushort[layout.QueueSize];
        _outstanding = new SubmittedChain?[layout.QueueSize];
        ResetRings();
    }

    /// <summary>Creates a driver whose buffers come from <paramref name="bufferArea"/>.</summary>
    /// <param name="memory">Guest memory the driver writes.</param>
    /// <param name="layout">Where the rings go.</param>
    /// <param name="bufferArea">Guest range for buffers and indirect tables; must not overlap the rings.</param>
    public SimulatedVirtioDriver(IGuestMemory memory, SplitRingLayout layout, GuestRange bufferArea)
        : this(memory, layout, new GuestBufferAllocator(bufferArea))
    {
    }

    /// <summary>Creates a driver for <paramref name="layout"/>; buffers come from the rest of the region holding the rings, from the first 4 KiB boundary after them.</summary>
    /// <param name="memory">Test memory.</param>
    /// <param name="layout">Where the rings go (for example <see cref="SplitRingLayout.Workload(int, ulong)"/>).</param>
    public SimulatedVirtioDriver(TestGuestMemory memory, SplitRingLayout layout)
        : this(memory, layout, BufferAreaAfter(memory, layout.EndExclusive))
    {
    }

    /// <summary>Creates a driver with a compact ring layout at the start of <paramref name="memory"/>'s first region, buffers after it.</summary>
    /// <param name="memory">Test memory.</param>
    /// <param name="queueSize">A power of two, 1..32768.</param>
    public SimulatedVirtioDriver(TestGuestMemory memory, int queueSize)
        : this(memory, SplitRingLayout.Compact(queueSize, FirstRegionStart(memory)))
    {
    }

    /// <summary>The memory the driver writes.</summary>
    public IGuestMemory Memory { get; }

    /// <summary>Where the rings are.</summary>
    public SplitRingLayout Layout { get; }

    /// <summary>Queue size N.</summary>
    public int QueueSize => Layout.QueueSize;

    /// <summary>Where buffers and indirect tables come from.</summary>
    public GuestBufferAllocator Allocator { get; }

    /// <summary>Whether VIRTIO_F_RING_INDIRECT_DESC is negotiated; only passed on by <see cref="ConfigureDeviceQueue"/> (the driver builds any shape a test asks for).</summary>
    public bool IndirectDescriptorsEnabled { get; set; }

    /// <summary>Whether VIRTIO_F_RING_EVENT_IDX is negotiated: <see cref="Publish"/> then decides on a kick from <c>avail_event</c>, and <c>used_event</c> follows the used ring when <see cref="AutoUpdateUsedEvent"/> is set.</summary>
    public bool EventIdxEnabled { get; set; }

    /// <summary>With EVENT_IDX and interrupts enabled, write <c>used_event</c> = last used index after each taken element, as Linux's <c>virtqueue_get_buf</c> does (default <see langword="true"/>).</summary>
    public bool AutoUpdateUsedEvent { get; set; } = true;

    /// <summary>When set, every device-writable buffer allocated by <see cref="AddChain(ReadOnlySpan{ReadOnlyMemory{byte}}, ReadOnlySpan{int}, ChainShape)"/> is filled with this byte first (0xAA shows bytes the device failed to write).</summary>
    public byte? WritableFillByte { get; set; }

    /// <summary>Free descriptors in the ring's table.</summary>
    public int FreeDescriptorCount => _freeCount;

    /// <summary>Chains added and not yet completed.</summary>
    public int OutstandingChainCount { get; private set; }

    /// <summary>The published <c>avail.idx</c> (free-running).</summary>
    public ushort AvailIndex => _availIndex;

    /// <summary>Heads written to the avail ring but not yet published by <see cref="Publish"/>.</summary>
    public int StagedCount => _staged;

    /// <summary>The driver's <c>last_used_idx</c>: the free-running index of the next used element to take.</summary>
    public ushort LastUsedIndex => _lastUsedIndex;

    /// <summary>
    /// Configures the device side of this queue: size, the three addresses, memory, negotiated ring
    /// features, and (by default) <see cref="SplitQueue.TryActivate"/>. When a device owns the
    /// queue, pass <paramref name="activate"/> = <see langword="false"/> and let
    /// <see cref="IVirtioDevice.Activate"/> / <see cref="IVirtioDevice.SetQueueReady"/> do the rest.
    /// </summary>
    /// <param name="queue">The device's queue.</param>
    /// <param name="deviceMemory">The memory the device sees (default: <see cref="Memory"/>, or its <see cref="TestGuestMemory.RegionMemory"/> so the engine takes its region fast path; pass a recording or fault-injecting wrapper here).</param>
    /// <param name="activate">Whether to call <see cref="SplitQueue.TryActivate"/>.</param>
    /// <returns>The activation result (<see cref="VirtqueueError.None"/> when not activating).</returns>
    /// <exception cref="InvalidOperationException">The queue refused the size or the addresses.</exception>
    public VirtqueueError ConfigureDeviceQueue(SplitQueue queue, IGuestMemory? deviceMemory = null, bool activate = true)
    {
        ArgumentNullException.ThrowIfNull(queue);
        if (!queue.TrySetSize(QueueSize))
        {
            throw new InvalidOperationException($"The queue refused size {QueueSize} (max {queue.MaxSize}, ready {queue.IsReady}).");
        }

        if (!queue.TrySetAddresses(Layout.DescriptorTable, Layout.AvailRing, Layout.UsedRing))
        {
            throw new InvalidOperationException($"The queue refused the ring addresses {Layout}.");
        }

        queue.Memory = deviceMemory ?? (Memory is TestGuestMemory test ? test.RegionMemory : Memory);
        queue.IndirectDescriptorsEnabled = IndirectDescriptorsEnabled;
        queue.EventIdxEnabled = EventIdxEnabled;
        return activate ? queue.TryActivate() : VirtqueueError.None;
    }

    /// <summary>
    /// Allocates buffers for <paramref name="readable"/> data (copied in) and
    /// <paramref name="writableLengths"/>, and adds them as one chain: readable buffers first,
    /// one descriptor per entry, so a request can be split any way (pass the 8 bytes as 3 + 5).
    /// The head goes to the avail ring; call <see cref="Publish"/> to make it visible.
    /// </summary>
    /// <param name="readable">Device-readable buffers, in order.</param>
    /// <param name="writableLengths">Sizes of the device-writable buffers, in order.</param>
    /// <param name="shape">Direct, indirect, or direct then indirect.</param>
    /// <returns>The chain, freed automatically when its used element is taken.</returns>
    /// <exception cref="InvalidOperationException">Not enough free descriptors or buffer space.</exception>
    public SubmittedChain AddChain(ReadOnlySpan<ReadOnlyMemory<byte>> readable, ReadOnlySpan<int> writableLengths, ChainShape shape = default)
    {
        var blocks = new List<GuestRange>(readable.Length + writableLengths.Length + 1);
        var buffers = new DriverBuffer[readable.Length + writableLengths.Length];
        try
        {
            for (int i = 0; i < readable.Length; i++)
            {
                GuestRange block = Allocator.Allocate((ulong)readable[i].Length);
                blocks.Add(block);
                WriteOrThrow(block.Start, readable[i].Span);
                buffers[i] = DriverBuffer.Readable(block.Start, (uint)readable[i].Length);
            }

            for (int i = 0; i < writableLengths.Length; i++)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(writableLengths[i], nameof(writableLengths));
                GuestRange block = Allocator.Allocate((ulong)writableLengths[i]);
                blocks.Add(block);
                if (WritableFillByte is byte fill)
                {
                    FillOrThrow(block.Start, writableLengths[i], fill);
                }

                buffers[readable.Length + i] = DriverBuffer.Writable(block.Start, (uint)writableLengths[i]);
            }

            return AddChainCore(buffers, shape, blocks);
        }
        catch
        {
            foreach (GuestRange block in blocks)
            {
                Allocator.Free(block);
            }

            throw;
        }
    }

    /// <summary>Adds a chain over buffers the caller already placed in guest memory (for example the request area of bench/WORKLOAD.md). The buffers are not freed on completion; indirect tables are.</summary>
    /// <param name="buffers">The buffers in chain order (the driver does not reorder; readable-after-writable is allowed for negative tests).</param>
    /// <param name="shape">Direct, indirect, or direct then indirect.</param>
    /// <returns>The chain.</returns>
    /// <exception cref="ArgumentException">No buffers, or a shape that does not fit the buffer count.</exception>
    /// <exception cref="InvalidOperationException">Not enough free descriptors.</exception>
    public SubmittedChain AddChain(ReadOnlySpan<DriverBuffer> buffers, ChainShape shape = default) =>
        AddChainCore(buffers.ToArray(), shape, new List<GuestRange>());

    /// <summary>
    /// Publishes every staged head: <c>avail.idx += staged</c> with a release store
    /// (VIRTIO 1.3 §2.7.13 "Supplying Buffers to The Device"), then tells whether the device asked
    /// for a notification: without EVENT_IDX unless <c>used.flags</c> has NO_NOTIFY, with it when
    /// the new index passed <c>avail_event</c> (<c>vring_need_event</c>, wrap-aware).
    /// </summary>
    /// <returns>Whether the driver should kick (notify) the device.</returns>
    public bool Publish()
    {
        ushort oldIndex = _availIndex;
        ushort newIndex = unchecked((ushort)(oldIndex + _staged)); // wraps by design: 16-bit ring index
        StoreOrThrow(Layout.AvailIndexAddress, newIndex);
        _availIndex = newIndex;
        _staged = 0;
        return DeviceWantsKick(oldIndex, newIndex);
    }

    /// <summary>Whether the device asked for a kick after the avail index moved from <paramref name="oldIndex"/> to <paramref name="newIndex"/> (VIRTIO 1.3 §2.7.10 "Available Buffer Notification Suppression").</summary>
    /// <param name="oldIndex">The avail index before the batch.</param>
    /// <param name="newIndex">The avail index after the batch.</param>
    /// <returns>Whether to notify.</returns>
    public bool DeviceWantsKick(ushort oldIndex, ushort newIndex)
    {
        // Full barrier between publishing avail.idx and reading the device's suppression state (Linux virtio_mb).
        Interlocked.MemoryBarrier();
        if (EventIdxEnabled)
        {
            ushort availEvent = LoadOrThrow(Layout.AvailEventAddress);
            return NeedEvent(availEvent, newIndex, oldIndex);
        }

        return (LoadOrThrow(Layout.UsedFlagsAddress) & UsedFlagNoNotify) == 0;
    }

    /// <summary>
    /// Takes the next used element, if the device published one (<c>used.idx</c> loaded with acquire
    /// semantics). A tracked chain is snapshotted (<see cref="DriverCompletion.WritableBytes"/>)
    /// and its descriptors and buffers are recycled.
    /// </summary>
    /// <param name="completion">The element.</param>
    /// <returns><see langword="false"/> when nothing new is on the used ring.</returns>
    /// <exception cref="InvalidOperationException">The device moved <c>used.idx</c> more than N past the driver's last used index (a device bug).</exception>
    public bool TryTakeUsed(out DriverCompletion completion)
    {
        if (!TryReadNextUsed(out UsedElement element))
        {
            completion = null!;
            return false;
        }

        SubmittedChain? chain = element.Id < (uint)QueueSize ? _outstanding[element.Id] : null;
        byte[] written = chain is null ? Array.Empty<byte>() : SnapshotWritable(chain);
        completion = new DriverCompletion(_lastUsedIndex, element, chain, written);
        if (chain is not null)
        {
            chain.Completion = completion;
            Recycle(chain);
        }

        AdvanceUsed();
        return true;
    }

    /// <summary>
    /// Takes the next used element without snapshotting anything: allocation-free for raw chains
    /// (for example the pre-built chains of bench/WORKLOAD.md, republished with
    /// <see cref="StageAvailEntry(ushort)"/>). A tracked chain is still recycled, but its
    /// <see cref="SubmittedChain.Completion"/> stays unset.
    /// </summary>
    /// <param name="element">The element as the device wrote it.</param>
    /// <returns><see langword="false"/> when nothing new is on the used ring.</returns>
    /// <exception cref="InvalidOperationException">The device moved <c>used.idx</c> more than N ahead.</exception>
    public bool TryTakeUsedElement(out UsedElement element)
    {
        if (!TryReadNextUsed(out element))
        {
            return false;
        }

        if (element.Id < (uint)QueueSize && _outstanding[element.Id] is SubmittedChain chain)
        {
            Recycle(chain);
        }

        AdvanceUsed();
        return true;
    }

    /// <summary>Takes every used element published so far.</summary>
    /// <returns>The elements in used-ring order.</returns>
    public IReadOnlyList<DriverCompletion> TakeAllUsed()
    {
        var all = new List<DriverCompletion>();
        while (TryTakeUsed(out DriverCompletion completion))
        {
            all.Add(completion);
        }

        return all;
    }

    /// <summary>Sets <c>avail.flags</c> (for example <see cref="AvailFlagNoInterrupt"/>: "do not interrupt me"; the device SHOULD NOT notify without EVENT_IDX and must ignore it with EVENT_IDX).</summary>
    /// <param name="flags">The raw flags value (undefined bits are written as given).</param>
    public void SetAvailFlags(ushort flags)
    {
        _availFlags = flags;
        StoreOrThrow(Layout.AvailFlagsAddress, flags);
    }

    /// <summary>Sets or clears VRING_AVAIL_F_NO_INTERRUPT.</summary>
    /// <param name="suppress">Whether to ask the device not to interrupt.</param>
    public void SuppressInterrupts(bool suppress) =>
        SetAvailFlags(suppress ? (ushort)(_availFlags | AvailFlagNoInterrupt) : (ushort)(_availFlags & ~AvailFlagNoInterrupt));

    /// <summary>Writes <c>used_event</c> (meaningful with EVENT_IDX: "interrupt me when used.idx passes this").</summary>
    /// <param name="value">The used index after which the driver wants a notification.</param>
    public void SetUsedEvent(ushort value) => StoreOrThrow(Layout.UsedEventAddress, value);

    /// <summary>The device-writable ranges right now: the used ring and the writable buffers of every outstanding chain (for <see cref="RecordingGuestMemory.AssertNoWritesOutside(GuestRange[])"/>).</summary>
    /// <returns>The ranges.</returns>
    public GuestRange[] GetDeviceWritableRanges()
    {
        var ranges = new List<GuestRange> { Layout.UsedRingRange };
        foreach (SubmittedChain? chain in _outstanding)
        {
            if (chain is not null)
            {
                ranges.AddRange(chain.WritableRanges);
            }
        }

        return ranges.ToArray();
    }

    /// <summary>Returns the queue to its initial state: rings zeroed, every descriptor free, indices 0, outstanding chains forgotten (their buffers are freed). Use after a device or queue reset.</summary>
    public void ResetRings()
    {
        for (int i = 0; i < _outstanding.Length; i++)
        {
            if (_outstanding[i] is SubmittedChain chain)
            {
                foreach (GuestRange block in chain.OwnedBlocks)
                {
                    Allocator.Free(block);
                }

                _outstanding[i] = null;
            }
        }

        ZeroOrThrow(Layout.DescriptorTable, Layout.DescriptorTableSize);
        ZeroOrThrow(Layout.AvailRing, Layout.AvailRingSize);
        ZeroOrThrow(Layout.UsedRing, Layout.UsedRingSize);

        // Linux virtqueue_init: free list 0 → 1 → … → N-1 (the last link is 0).
        for (int i = 0; i < _freeNext.Length; i++)
        {
            _freeNext[i] = (ushort)((i + 1) % _freeNext.Length);
        }

        _freeHead = 0;
        _freeCount = QueueSize;
        OutstandingChainCount = 0;
        _availIndex = 0;
        _staged = 0;
        _lastUsedIndex = 0;
        _availFlags = 0;
    }

    private bool TryReadNextUsed(out UsedElement element)
    {
        ushort usedIndex = LoadOrThrow(Layout.UsedIndexAddress); // acquire: the element is read after it
        if (usedIndex == _lastUsedIndex)
        {
            element = default;
            return false;
        }

        int pending = unchecked((ushort)(usedIndex - _lastUsedIndex)); // wraps by design: 16-bit ring index
        if (pending > QueueSize)
        {
            throw new InvalidOperationException($"The device published used.idx {usedIndex} while the driver's last used index is {_lastUsedIndex}: {pending} entries exceed the queue size {QueueSize}.");
        }

        element = ReadUsedElement(_lastUsedIndex % QueueSize);
        return true;
    }

    private void AdvanceUsed()
    {
        _lastUsedIndex = unchecked((ushort)(_lastUsedIndex + 1)); // wraps by design: 16-bit ring index
        if (EventIdxEnabled && AutoUpdateUsedEvent && (_availFlags & AvailFlagNoInterrupt) == 0)
        {
            StoreOrThrow(Layout.UsedEventAddress, _lastUsedIndex);
        }
    }

    private static bool NeedEvent(ushort eventIndex, ushort newIndex, ushort oldIndex) =>
        unchecked((ushort)(newIndex - eventIndex - 1)) < unchecked((ushort)(newIndex - oldIndex)); // vring_need_event, wraps by design

    private static GuestAddress FirstRegionStart(TestGuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        return memory.RegionDescriptions[0].Start;
    }

    private static GuestRange BufferAreaAfter(TestGuestMemory memory, ulong ringEnd)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ulong start = SplitRingLayout.AlignUp(ringEnd, 4096);
        foreach (TestMemoryRegion region in memory.RegionDescriptions)
        {
            GuestRange range = region.Range;
            if (range.Start.Value <= ringEnd && ringEnd <= range.EndExclusive)
            {
                if (start >= range.EndExclusive)
                {
                    throw new ArgumentException($"No room for buffers after the rings (ending at 0x{ringEnd:x}) in region {range}.", nameof(memory));
                }

                return new GuestRange(start, range.EndExclusive - start);
            }
        }

        throw new ArgumentException($"The rings (ending at 0x{ringEnd:x}) are not inside one region of the test memory.", nameof(memory));
    }

    private SubmittedChain AddChainCore(DriverBuffer[] buffers, ChainShape shape, List<GuestRange> ownedBlocks)
    {
        if (buffers.Length == 0)
        {
            throw new ArgumentException("A chain needs at least one buffer.", nameof(buffers));
        }

        int directCount = shape.Kind switch
        {
            ChainShapeKind.Direct => buffers.Length,
            ChainShapeKind.Indirect => 0,
            _ => shape.DirectCount,
        };
        int indirectCount = buffers.Length - directCount;
        if (shape.Kind == ChainShapeKind.DirectThenIndirect && indirectCount < 1)
        {
            throw new ArgumentException($"Shape {shape} needs more than {shape.DirectCount} buffers.", nameof(shape));
        }

        int needed = directCount + (indirectCount > 0 ? 1 : 0);
        if (needed > _freeCount)
        {
            throw new InvalidOperationException($"The ring has {_freeCount} free descriptors; the chain needs {needed} (queue size {QueueSize}).");
        }

        if (_staged >= QueueSize)
        {
            throw new InvalidOperationException("Every avail slot is staged; publish first.");
        }

        Span<byte> raw = stackalloc byte[Descriptor.Size];
        GuestRange? table = null;
        if (indirectCount > 0)
        {
            // VIRTIO 1.3 §2.7.5.3 "Indirect Descriptors": a table of 16-byte entries; Linux alloc_indirect_split links entry i to i + 1.
            GuestRange block = Allocator.Allocate((ulong)indirectCount * Descriptor.Size);
            ownedBlocks.Add(block);
            table = block;
            for (int j = 0; j < indirectCount; j++)
            {
                DriverBuffer b = buffers[directCount + j];
                DescriptorFlags flags = (j < indirectCount - 1 ? DescriptorFlags.Next : DescriptorFlags.None)
                    | (b.IsDeviceWritable ? DescriptorFlags.Write : DescriptorFlags.None);
                new Descriptor(b.Address, b.Length, flags, (ushort)(j + 1)).TryWrite(raw);
                WriteOrThrow(new GuestAddress(block.Start.Value + ((ulong)j * Descriptor.Size)), raw);
            }
        }

        var indices = new ushort[needed];
        int index = _freeHead;
        for (int i = 0; i < needed; i++)
        {
            indices[i] = (ushort)index;
            Descriptor descriptor;
            if (i < directCount)
            {
                DriverBuffer b = buffers[i];
                DescriptorFlags flags = (i < needed - 1 ? DescriptorFlags.Next : DescriptorFlags.None)
                    | (b.IsDeviceWritable ? DescriptorFlags.Write : DescriptorFlags.None);
                descriptor = new Descriptor(b.Address, b.Length, flags, _freeNext[index]);
            }
            else
            {
                descriptor = new Descriptor(table!.Value.Start, (uint)table.Value.Length, DescriptorFlags.Indirect, _freeNext[index]);
            }

            descriptor.TryWrite(raw);
            WriteOrThrow(Layout.DescriptorAddress(index), raw);
            index = _freeNext[index];
        }

        _freeHead = index;
        _freeCount -= needed;
        ushort head = indices[0];
        ushort availSlotIndex = unchecked((ushort)(_availIndex + _staged)); // wraps by design: 16-bit ring index
        var chain = new SubmittedChain(head, shape, buffers, indices, table, availSlotIndex, ownedBlocks);
        _outstanding[head] = chain;
        OutstandingChainCount++;
        WriteAvailEntry(availSlotIndex % QueueSize, head);
        _staged++;
        return chain;
    }

    private void Recycle(SubmittedChain chain)
    {
        // Linux detach_buf_split: the chain keeps its internal links and goes to the front of the free list.
        IReadOnlyList<ushort> indices = chain.DescriptorIndices;
        _freeNext[indices[indices.Count - 1]] = (ushort)_freeHead;
        _freeHead = chain.HeadIndex;
        _freeCount += indices.Count;
        _outstanding[chain.HeadIndex] = null;
        OutstandingChainCount--;
        foreach (GuestRange block in chain.OwnedBlocks)
        {
            Allocator.Free(block);
        }
    }

    private byte[] SnapshotWritable(SubmittedChain chain)
    {
        byte[] bytes = new byte[chain.WritableLength];
        int offset = 0;
        foreach (GuestRange range in chain.WritableRanges)
        {
            ReadOrThrow(range.Start, bytes.AsSpan(offset, (int)range.Length));
            offset += (int)range.Length;
        }

        return bytes;
    }

    private ushort LoadOrThrow(GuestAddress address)
    {
        GuestMemoryError error = Memory.TryLoadAcquireUInt16(address, out ushort value);
        if (error != GuestMemoryError.None)
        {
            throw new InvalidOperationException($"Driver load at {address} failed: {error}.");
        }

        return value;
    }

    private void StoreOrThrow(GuestAddress address, ushort value)
    {
        GuestMemoryError error = Memory.TryStoreReleaseUInt16(address, value);
        if (error != GuestMemoryError.None)
        {
            throw new InvalidOperationException($"Driver store at {address} failed: {error}.");
        }
    }

    private void WriteOrThrow(GuestAddress address, ReadOnlySpan<byte> bytes)
    {
        GuestMemoryError error = Memory.TryWrite(address, bytes);
        if (error != GuestMemoryError.None)
        {
            throw new InvalidOperationException($"Driver write of {bytes.Length} bytes at {address} failed: {error}.");
        }
    }

    private void ReadOrThrow(GuestAddress address, Span<byte> bytes)
    {
        GuestMemoryError error = Memory.TryRead(address, bytes);
        if (error != GuestMemoryError.None)
        {
            throw new InvalidOperationException($"Driver read of {bytes.Length} bytes at {address} failed: {error}.");
        }
    }

    private void FillOrThrow(GuestAddress address, int length, byte value)
    {
        byte[] fill = new byte[length];
        fill.AsSpan().Fill(value);
        WriteOrThrow(address, fill);
    }

    private void ZeroOrThrow(GuestAddress address, ulong length)
    {
        byte[] zeros = new byte[(int)Math.Min(length, 64 * 1024)];
        ulong done = 0;
        while (done < length)
        {
            int chunk = (int)Math.Min((ulong)zeros.Length, length - done);
            WriteOrThrow(new GuestAddress(address.Value + done), zeros.AsSpan(0, chunk));
            done += (ulong)chunk;
        }
    }

    private static uint ReadUInt32(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadUInt32LittleEndian(bytes);
}
