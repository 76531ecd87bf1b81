// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <content>Taking chains from the avail ring and validating them (VIRTIO 1.3 §2.7.5, §2.7.6, §2.7.13).</content>
public sealed partial class SplitQueue
{
    /// <summary>
    /// Takes the next valid chain. Malformed chains are completed with used length 0 (counted in
    /// <see cref="InvalidChainCount"/>, reported through <see cref="InvalidChainCallback"/>) and
    /// skipped, so one bad chain never disturbs its neighbours.
    /// </summary>
    /// <param name="chain">The popped chain, valid until the next pop or read on this queue.</param>
    /// <param name="error">The ring-level error when the queue broke (or <see cref="VirtqueueError.QueueNotReady"/> /
    /// <see cref="VirtqueueError.QueueBroken"/>); <see cref="VirtqueueError.None"/> when simply empty.</param>
    /// <returns><see langword="true"/> when a chain was popped.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPopAvailable(out DescriptorChain chain, out VirtqueueError error)
    {
        // Fast path, inlined into the caller's loop: a resolved avail ring, an entry already known to be
        // published (below the avail.idx shadow), a head in range and not in flight, no tracker and a valid
        // chain. Everything else (re-reading avail.idx, ring faults, duplicate heads, malformed chains, the
        // generic memory path) is TryPopAvailableSlow, which makes the same checks in the same order.
        ushort next = _nextAvail;
        bool[] inFlight = _inFlight;
        ushort head = 0;
        bool popped = false;
        if (_ready && !_broken && next != _availIdxShadow && _availHost.IsValid && Tracker is null)
        {
            // VIRTIO 1.3 §2.7.6 "The Virtqueue Available Ring": ring[idx % Queue Size] holds a chain head.
            // SAFETY: the slot is < size, inside the avail ring checked at activation.
            head = Unsafe.ReadUnaligned<ushort>(ref _availHost.At(AvailEntriesOffset + ((uint)(next & _mask) * AvailEntrySize)));

            // GV2 (head < Queue Size) and CVE-2022-26354 (a head the device still holds): left to the slow path.
            if (head < _size && head < (uint)inFlight.Length && !inFlight[head])
            {
                _nextAvail = unchecked((ushort)(next + 1)); // wraps by design: 16-bit free-running ring index
                inFlight[head] = true;
                _inFlightCount++;
                VirtqueueError chainError = WalkChain(head);
                if (chainError == VirtqueueError.None)
                {
                    popped = true;
                }
                else if (!CompleteMalformedChain(head, chainError, out error))
                {
                    chain = default;
                    return false;
                }
            }
        }

        if (!popped)
        {
            // The head comes back as the return value, not through an out parameter, so the fast path's head
            // stays in a register (an address-taken local would live on the stack).
            int slowHead = TryPopAvailableSlow(out error);
            if (slowHead < 0)
            {
                chain = default;
                return false;
            }

            head = (ushort)slowHead;
        }

        // The walk left the chain's shape in fields; the chain is built here, in the caller's frame.
        chain = new DescriptorChain(_memory!, _walkResolved ? _bufferHost : default, head, new ReadOnlySpan<Descriptor>(_scratch, 0, _walkCount), _walkReadableCount, _walkReadableLength, _walkWritableLength);
        error = VirtqueueError.None;
        return true;
    }

    /// <summary>
    /// The general pop loop (see <see cref="TryPopAvailable"/>): returns the popped head, whose walked chain is then in
    /// the _walk fields, or -1 with <paramref name="error"/> (None when the ring is empty).
    /// </summary>
    private int TryPopAvailableSlow(out VirtqueueError error)
    {
        if (!_ready || _broken)
        {
            error = _broken ? VirtqueueError.QueueBroken : VirtqueueError.QueueNotReady;
            return -1;
        }

        while (true)
        {
            if (_nextAvail == _availIdxShadow && !TryRefreshAvailIndex(out error))
            {
                return -1; // empty (error None) or broken
            }

            // VIRTIO 1.3 §2.7.6 "The Virtqueue Available Ring": ring[idx % Queue Size] holds a chain head.
            if (!TryReadAvailEntry(_nextAvail & _mask, out ushort head))
            {
                error = Break(VirtqueueError.RingMemoryUnavailable);
                return -1;
            }

            // GV2; VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table": the table has Queue Size entries,
            // so a head at or past it names no descriptor. The ring itself is corrupt: stop the queue.
            // (The in-flight array has at least Queue Size entries, so the check also bounds the index below.)
            bool[] inFlight = _inFlight;
            if (head >= _size || head >= (uint)inFlight.Length)
            {
                error = Break(VirtqueueError.InvalidHeadIndex);
                return -1;
            }

            _nextAvail = unchecked((ushort)(_nextAvail + 1)); // wraps by design: 16-bit free-running ring index

            // VIRTIO 1.3 §2.7.13.1 "Placing Buffers Into The Descriptor Table": a driver offers only
            // free descriptors. A head still held by the device cannot be completed twice
            // (CVE-2022-26354 class), so the duplicate is counted and skipped, not completed.
            if (inFlight[head])
            {
                RecordInvalidChain(head, VirtqueueError.HeadAlreadyInFlight);
                continue;
            }

            inFlight[head] = true;
            _inFlightCount++;
            Tracker?.OnPopped(head);

            VirtqueueError chainError = WalkChain(head);
            if (chainError == VirtqueueError.None)
            {
                error = VirtqueueError.None;
                AssertInvariants();
                return head;
            }

            if (!CompleteMalformedChain(head, chainError, out error))
            {
                return -1;
            }
        }
    }

    /// <summary>
    /// Chain-level fault: completes the chain with used length 0 (VIRTIO 1.3 §2.7.8 "The Virtqueue Used
    /// Ring": len is the number of bytes written, here none) so the pop goes on with the next chain.
    /// </summary>
    /// <returns><see langword="false"/> with the ring error when the used ring could not be written.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool CompleteMalformedChain(ushort head, VirtqueueError chainError, out VirtqueueError error)
    {
        error = AddUsed(head, 0);
        if (error != VirtqueueError.None)
        {
            return false;
        }

        RecordInvalidChain(head, chainError);
        return true;
    }

    /// <summary>Whether the avail ring holds entries not yet taken. Returns <see langword="true"/> for a corrupt
    /// <c>avail.idx</c> too, so the next <see cref="TryPopAvailable"/> reports it; <see langword="false"/> when not ready or broken.</summary>
    /// <returns><see langword="true"/> when at least one entry is available.</returns>
    public bool HasAvailable()
    {
        if (!_ready || _broken)
        {
            return false;
        }

        if (_nextAvail != _availIdxShadow)
        {
            return true;
        }

        if (!TryLoadAvailIdx(out ushort availIdx))
        {
            return true; // let the pop report the ring fault
        }

        if (unchecked((ushort)(availIdx - _nextAvail)) <= _size) // wraps by design: 16-bit ring index
        {
            _availIdxShadow = availIdx;
        }

        return availIdx != _nextAvail;
    }

    /// <summary>
    /// Reads the chain at <paramref name="headIndex"/> without touching the avail ring (vhost-user
    /// inflight resubmission). The head counts as in flight afterwards, valid or not: complete it
    /// with <see cref="AddUsed(ushort, uint)"/> (length 0 when this method fails with a chain-level
    /// error). The tracker's <see cref="ISplitQueueTracker.OnPopped(ushort)"/> is not called: the
    /// head is already tracked.
    /// </summary>
    /// <param name="headIndex">The head descriptor index.</param>
    /// <param name="chain">The chain, valid until the next pop or read on this queue.</param>
    /// <param name="error">Why the chain is invalid: a chain-level error, <see cref="VirtqueueError.InvalidHeadIndex"/>
    /// (head out of range; the queue is not broken by this), <see cref="VirtqueueError.QueueNotReady"/> or <see cref="VirtqueueError.QueueBroken"/>.</param>
    /// <returns><see langword="true"/> when the chain is valid.</returns>
    public bool TryReadChain(ushort headIndex, out DescriptorChain chain, out VirtqueueError error)
    {
        chain = default;
        if (!_ready || _broken)
        {
            error = _broken ? VirtqueueError.QueueBroken : VirtqueueError.QueueNotReady;
            return false;
        }

        if (headIndex >= _size)
        {
            error = VirtqueueError.InvalidHeadIndex;
            return false;
        }

        if (!_inFlight[headIndex])
        {
            _inFlight[headIndex] = true;
            _inFlightCount++;
        }

        error = WalkChain(headIndex);
        if (error != VirtqueueError.None)
        {
            return false;
        }

        chain = new DescriptorChain(_memory!, _walkResolved ? _bufferHost : default, headIndex, new ReadOnlySpan<Descriptor>(_scratch, 0, _walkCount), _walkReadableCount, _walkReadableLength, _walkWritableLength);
        AssertInvariants();
        return true;
    }

    /// <summary>Re-reads <c>avail.idx</c>; <see langword="false"/> when the ring is empty (error None) or broken.</summary>
    private bool TryRefreshAvailIndex(out VirtqueueError error)
    {
        if (!TryLoadAvailIdx(out ushort availIdx))
        {
            error = Break(VirtqueueError.RingMemoryUnavailable);
            return false;
        }

        // GV3; VIRTIO 1.3 §2.7.13 "Supplying Buffers to The Device": the ring holds at most Queue Size
        // entries, so avail.idx can run ahead of the device by at most that much. More means a
        // corrupt index (reprocessing old chains: the vm-virtio self-DoS fix): stop the queue.
        if (unchecked((ushort)(availIdx - _nextAvail)) > _size) // wraps by design: 16-bit ring index
        {
            error = Break(VirtqueueError.AvailIndexOutOfRange);
            return false;
        }

        _availIdxShadow = availIdx;
        error = VirtqueueError.None;
        return availIdx != _nextAvail;
    }

    private void RecordInvalidChain(ushort head, VirtqueueError reason)
    {
        _invalidChainCount++;
        _lastChainError = reason;
        InvalidChainCallback?.Invoke(head, reason);
    }

    /// <summary>
    /// Walks the chain at <paramref name="head"/> once, copying each buffer descriptor into the
    /// scratch array (indirect tables flattened) and validating it. Bounded: at most Queue Size
    /// direct steps plus at most Queue Size indirect entries.
    /// </summary>
    /// <remarks>
    /// The fast path (region-backed memory, descriptor table in one region, little-endian host) makes
    /// the same checks as <see cref="WalkChainGeneric"/>, in the same order, with the walk state in
    /// registers: each descriptor is copied out of the table with one 16-byte load straight into its
    /// scratch slot (VQ-6: copy once, then validate the copy; the slot layout is the wire layout,
    /// VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table").
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)] // its own register allocation: inlined, the walk state spills to the stack
    private VirtqueueError WalkChain(ushort head)
    {
        Descriptor[] scratch = _scratch;
        int size = _size;
        if (!_descHost.IsValid || scratch.Length < size)
        {
            return WalkChainGeneric(head);
        }

        // SAFETY: the table (size · 16 bytes) was checked at activation; every index used below is < size.
        ref byte table = ref _descHost.At(0);
#if NET
        ref Descriptor slots = ref MemoryMarshal.GetArrayDataReference(scratch);
#else
        ref Descriptor slots = ref MemoryMarshal.GetReference(scratch.AsSpan());
#endif
        return TryWalkRequestPair(ref table, ref slots, head, (uint)size) ? VirtqueueError.None : WalkChainLoop(ref table, ref slots, head, size);
    }

    /// <summary>The loop of <see cref="WalkChain"/>: any chain, over the resolved descriptor table and scratch slots it passes.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // its own frame: the pair path in WalkChain stays free of the loop's spills
    private VirtqueueError WalkChainLoop(ref byte table, ref Descriptor slots, ushort head, int size)
    {
        int n = 0;
        int readable = -1;       // readable count, fixed at the first writable descriptor (-1: none seen yet)
        ulong total = 0;         // readable + writable bytes
        ulong readableTotal = 0; // fixed with readable
        uint index = head;
        bool resolved = true;    // every buffer so far lies in the cached buffer region
        VirtqueueError error;
        while (true)
        {
            // GV4 / TTL; VIRTIO 1.3 §2.7.5.2 "Driver Requirements: The Virtqueue Descriptor Table": loops are
            // forbidden and a chain has at most Queue Size descriptors. Every direct step appends one buffer,
            // so n counts the steps taken: a walk that needs more than Queue Size is a loop or overlong chain.
            if (n >= size)
            {
                error = VirtqueueError.ChainTooLong;
                break;
            }

            // VQ-6: the descriptor is read once, as two 8-byte loads, into registers; every decision below is
            // made on that copy, and the same bytes go to the scratch slot (its layout is the wire layout:
            // le64 addr; le32 len; le16 flags; le16 next, VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table").
            // index < size (the head and every next were checked), n < size <= scratch.Length.
            ref byte entry = ref Unsafe.Add(ref table, (nint)(index * Descriptor.Size));
            ulong address = Unsafe.ReadUnaligned<ulong>(ref entry);
            ulong rest = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref entry, 8));
            ref Descriptor slot = ref Unsafe.Add(ref slots, n);
            Unsafe.WriteUnaligned(ref Unsafe.As<Descriptor, byte>(ref slot), address);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref Unsafe.As<Descriptor, byte>(ref slot), 8), rest);
            DescriptorFlags flags = (DescriptorFlags)(ushort)(rest >> 32);
            if ((flags & DescriptorFlags.Indirect) != 0)
            {
                // VIRTIO 1.3 §2.7.5.3.2 "Device Requirements: Indirect Descriptors": the chain ends with the table.
                return ContinueWithIndirectTable(address, rest, n, readable < 0 ? n : readable, readable < 0 ? total : readableTotal, readable < 0 ? 0 : total - readableTotal, resolved);
            }

            // GV7; VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table": addr + len must not wrap (OpenVMM #4047).
            uint length = (uint)rest;
            if (length != 0 && address + (length - 1) < address)
            {
                error = VirtqueueError.AddressOverflow;
                break;
            }

            GuestMemoryAccess access = GuestMemoryAccess.Read;
            if ((flags & DescriptorFlags.Write) != 0)
            {
                if (readable < 0)
                {
                    readable = n;
                    readableTotal = total;
                }

                access = GuestMemoryAccess.Write;
            }
            else if (readable >= 0)
            {
                // GV8; VIRTIO 1.3 §2.7.4.2 "Driver Requirements: Message Framing": readable before writable.
                error = VirtqueueError.ReadableAfterWritable;
                break;
            }

            // GV7; VIRTIO 1.3 §2.7.5.2: the chain's total length stays below 2^32 (the used length is 32-bit).
            total += length;
            if (total > uint.MaxValue)
            {
                error = VirtqueueError.ChainLengthOverflow;
                break;
            }

            // GV9 / VM-1; VIRTIO 1.3 §2.7.5.1 "Device Requirements: The Virtqueue Descriptor Table": the whole
            // buffer is guest memory with the access the device will make (CVE-2018-1059 / CVE-2019-18960 class).
            GuestMemoryError memoryError = CheckBuffer(address, length, access, n == 0, ref resolved);
            if (memoryError != GuestMemoryError.None)
            {
                error = MapMemoryError(memoryError);
                break;
            }

            n++;
            if ((flags & DescriptorFlags.Next) == 0)
            {
                error = VirtqueueError.None;
                break;
            }

            // GV2; VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table": next must name a table entry.
            index = (uint)(rest >> 48);
            if (index >= (uint)size)
            {
                error = VirtqueueError.InvalidDescriptorIndex;
                break;
            }
        }

        if (readable < 0)
        {
            readable = n;
            readableTotal = total;
        }

        _walkCount = n;
        _walkReadableCount = readable;
        _walkReadableLength = unchecked((uint)readableTotal); // meaningful only when error is None (then < 2^32)
        _walkWritableLength = unchecked((uint)(total - readableTotal));
        _walkResolved = resolved;
        return error;
    }

    /// <summary>
    /// The commonest chain, straight-line: one device-readable buffer (flags exactly NEXT) followed by one
    /// device-writable buffer (flags exactly WRITE), both inside the cached buffer region — every request of
    /// virtio-gpio and of most request/response devices. Each descriptor is read once into registers and copied
    /// to its scratch slot (VQ-6). When it returns <see langword="true"/> the walk result is exactly what the loop
    /// of <see cref="WalkChain"/> produces for this chain: every check of the loop holds (no wrap and no length
    /// overflow follow from both buffers lying inside one region; next &lt; size; readable before writable).
    /// On <see langword="false"/> nothing is kept and the loop walks the chain from the head again, so which
    /// error a malformed chain gets is decided there only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryWalkRequestPair(ref byte table, ref Descriptor slots, uint head, uint size)
    {
        // VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table": le64 addr; le32 len; le16 flags; le16 next.
        ref byte first = ref Unsafe.Add(ref table, (nint)(head * Descriptor.Size));
        ulong address0 = Unsafe.ReadUnaligned<ulong>(ref first);
        ulong rest0 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref first, 8));
        uint next = (uint)(rest0 >> 48);
        if ((ushort)(rest0 >> 32) != (ushort)DescriptorFlags.Next || next >= size || size < 2)
        {
            return false;
        }

        ref byte second = ref Unsafe.Add(ref table, (nint)(next * Descriptor.Size));
        ulong address1 = Unsafe.ReadUnaligned<ulong>(ref second);
        ulong rest1 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref second, 8));
        if ((ushort)(rest1 >> 32) != (ushort)DescriptorFlags.Write)
        {
            return false;
        }

        // GV7 / GV9: both buffers inside the cached region (which ends below 2^64) with the access the device makes.
        uint length0 = (uint)rest0;
        uint length1 = (uint)rest1;
        ulong regionLength = _bufferLength;
        ulong offset0 = unchecked(address0 - _bufferStart); // wraps by design: huge when below the region
        ulong offset1 = unchecked(address1 - _bufferStart);
        if (offset0 >= regionLength || length0 > regionLength - offset0
            || offset1 >= regionLength || length1 > regionLength - offset1
            || (_bufferAccess & GuestMemoryAccess.ReadWrite) != GuestMemoryAccess.ReadWrite
            || (ulong)length0 + length1 > uint.MaxValue)
        {
            return false;
        }

        ref byte slot0 = ref Unsafe.As<Descriptor, byte>(ref slots);
        Unsafe.WriteUnaligned(ref slot0, address0);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref slot0, 8), rest0);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref slot0, Descriptor.Size), address1);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref slot0, Descriptor.Size + 8), rest1);
        _walkCount = 2;
        _walkReadableCount = 1;
        _walkReadableLength = length0;
        _walkWritableLength = length1;
        _walkResolved = true;
        return true;
    }

    /// <summary>The fast walk met an INDIRECT descriptor (the one it would put in scratch slot <paramref name="count"/>): walk its table.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private VirtqueueError ContinueWithIndirectTable(ulong pointerAddress, ulong pointerRest, int count, int readableCount, ulong readableLength, ulong writableLength, bool resolved)
    {
        // The pointer comes in registers, as the walk read it (re-reading it from the scratch slot just written
        // with two 8-byte stores would stall on store forwarding).
        var pointer = new Descriptor(new GuestAddress(pointerAddress), (uint)pointerRest, (DescriptorFlags)(ushort)(pointerRest >> 32), (ushort)(pointerRest >> 48));

        // The common case (Linux with RING_INDIRECT_DESC: every request is one table): a well-formed pointer to a table
        // in the cached buffer region, walked with its state in registers. Anything else takes the general walk below,
        // which makes the same checks in the same order.
        ulong tableAddress = pointer.Address.Value;
        uint tableLength = pointer.Length;
        ulong offset = unchecked(tableAddress - _bufferStart); // wraps by design: huge when below the region
        if (CheckIndirectPointer(in pointer) == VirtqueueError.None
            && offset < _bufferLength && tableLength <= _bufferLength - offset && (_bufferAccess & GuestMemoryAccess.Read) != 0)
        {
            // SAFETY: [tableAddress, tableAddress + tableLength) lies in the cached region, readable (checked just above).
            return WalkIndirectResolved(ref _bufferHost.At(tableAddress), (int)(tableLength / Descriptor.Size), count, readableCount, readableLength, writableLength, resolved);
        }

        ChainBuilder builder = new(_scratch, _size, count, readableCount, readableLength, writableLength, resolved);
        VirtqueueError error = WalkIndirectTable(in pointer, ref builder);
        StoreWalk(ref builder);
        return error;
    }

    private void StoreWalk(ref ChainBuilder builder)
    {
        _walkCount = builder.Count;
        _walkReadableCount = builder.ReadableCount;
        _walkReadableLength = unchecked((uint)builder.ReadableLength); // meaningful only when error is None (then < 2^32)
        _walkWritableLength = unchecked((uint)builder.WritableLength);
        _walkResolved = builder.Resolved;
    }

    /// <summary>The walk of <see cref="WalkChain"/> over any <see cref="IGuestMemory"/>.</summary>
    private VirtqueueError WalkChainGeneric(ushort head)
    {
        ChainBuilder builder = new(_scratch, _size, 0, 0, 0, 0, true);
        int size = _size;
        int index = head;
        int steps = 0;
        VirtqueueError error;
        while (true)
        {
            // GV4 / TTL; VIRTIO 1.3 §2.7.5.2 "Driver Requirements: The Virtqueue Descriptor Table":
            // loops are forbidden, and the table has Queue Size entries, so a walk that takes more
            // steps than that is a loop or an overlong chain.
            if (++steps > size)
            {
                error = VirtqueueError.ChainTooLong;
                break;
            }

            if (!TryReadTableDescriptor(index, out Descriptor descriptor))
            {
                // The table was checked at activation, so only a memory that changed under us gets here.
                error = VirtqueueError.GuestMemoryUnavailable;
                break;
            }

            if ((descriptor.Flags & DescriptorFlags.Indirect) != 0)
            {
                // VIRTIO 1.3 §2.7.5.3.2 "Device Requirements: Indirect Descriptors": zero or more normal
                // descriptors followed by a single INDIRECT one; the chain ends with its table.
                error = WalkIndirectTable(in descriptor, ref builder);
                break;
            }

            error = builder.Append(this, in descriptor);
            if (error != VirtqueueError.None)
            {
                break;
            }

            if ((descriptor.Flags & DescriptorFlags.Next) == 0)
            {
                break;
            }

            // GV2; VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table": next must name a table entry.
            if (descriptor.Next >= size)
            {
                error = VirtqueueError.InvalidDescriptorIndex;
                break;
            }

            index = descriptor.Next;
        }

        StoreWalk(ref builder);
        return error;
    }

    /// <summary>
    /// The indirect table of <see cref="ContinueWithIndirectTable"/>'s fast case: the same checks as
    /// <see cref="WalkIndirectTable"/> and <see cref="ChainBuilder.Append"/>, in the same order, with the walk
    /// state in registers and each entry read as two 8-byte loads (VQ-6: decide on the copy).
    /// </summary>
    private VirtqueueError WalkIndirectResolved(ref byte table, int entries, int count, int readableCount, ulong readableLength, ulong writableLength, bool resolved)
    {
        Descriptor[] scratch = _scratch;
        int capacity = _size;
        if (scratch.Length < capacity)
        {
            return VirtqueueError.ChainTooLong; // unreachable: scratch covers the queue size while ready
        }

#if NET
        ref Descriptor slots = ref MemoryMarshal.GetArrayDataReference(scratch);
#else
        ref Descriptor slots = ref MemoryMarshal.GetReference(scratch.AsSpan());
#endif
        uint index = 0;
        int steps = 0;
        VirtqueueError error;
        while (true)
        {
            // GV4 / TTL within the table: at most one visit per entry.
            if (++steps > entries)
            {
                error = VirtqueueError.ChainTooLong;
                break;
            }

            // index < entries (0, or a next checked below).
            ref byte entry = ref Unsafe.Add(ref table, (nint)(index * Descriptor.Size));
            ulong address = Unsafe.ReadUnaligned<ulong>(ref entry);
            ulong rest = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref entry, 8));
            DescriptorFlags flags = (DescriptorFlags)(ushort)(rest >> 32);

            // GV5; VIRTIO 1.3 §2.7.5.3.1: no VIRTQ_DESC_F_INDIRECT within an indirect table.
            if ((flags & DescriptorFlags.Indirect) != 0)
            {
                error = VirtqueueError.NestedIndirectTable;
                break;
            }

            // GV4; §2.7.5.3.1: "A driver MUST NOT create a descriptor chain longer than the Queue Size of the device".
            if (count >= capacity)
            {
                error = VirtqueueError.ChainTooLong;
                break;
            }

            // GV7; VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table": addr + len must not wrap.
            uint length = (uint)rest;
            if (length != 0 && address + (length - 1) < address)
            {
                error = VirtqueueError.AddressOverflow;
                break;
            }

            GuestMemoryAccess access;
            if ((flags & DescriptorFlags.Write) != 0)
            {
                writableLength += length;
                access = GuestMemoryAccess.Write;
            }
            else
            {
                // GV8; VIRTIO 1.3 §2.7.4.2 "Driver Requirements: Message Framing": readable before writable.
                if (count != readableCount)
                {
                    error = VirtqueueError.ReadableAfterWritable;
                    break;
                }

                readableLength += length;
                readableCount++;
                access = GuestMemoryAccess.Read;
            }

            // GV7; VIRTIO 1.3 §2.7.5.2: the total length stays below 2^32 (the used length is 32-bit).
            if (readableLength + writableLength > uint.MaxValue)
            {
                error = VirtqueueError.ChainLengthOverflow;
                break;
            }

            // GV9 / VM-1; VIRTIO 1.3 §2.7.5.1: the whole buffer is guest memory with the access the device will make.
            GuestMemoryError memoryError = CheckBuffer(address, length, access, count == 0, ref resolved);
            if (memoryError != GuestMemoryError.None)
            {
                error = MapMemoryError(memoryError);
                break;
            }

            ref Descriptor slot = ref Unsafe.Add(ref slots, count); // count < capacity <= scratch.Length
            Unsafe.WriteUnaligned(ref Unsafe.As<Descriptor, byte>(ref slot), address);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref Unsafe.As<Descriptor, byte>(ref slot), 8), rest);
            count++;
            if ((flags & DescriptorFlags.Next) == 0)
            {
                error = VirtqueueError.None;
                break;
            }

            // GV2: next indexes the indirect table, which has len / 16 entries.
            index = (uint)(rest >> 48);
            if (index >= (uint)entries)
            {
                error = VirtqueueError.InvalidDescriptorIndex;
                break;
            }
        }

        _walkCount = count;
        _walkReadableCount = readableCount;
        _walkReadableLength = unchecked((uint)readableLength); // meaningful only when error is None (then < 2^32)
        _walkWritableLength = unchecked((uint)writableLength);
        _walkResolved = resolved;
        return error;
    }

    /// <summary>The checks of an INDIRECT descriptor itself, before its table is read.</summary>
    private VirtqueueError CheckIndirectPointer(in Descriptor pointer)
    {
        // GV5; VIRTIO 1.3 §2.7.5.3.1 "Driver Requirements: Indirect Descriptors": the driver MUST NOT
        // set VIRTQ_DESC_F_INDIRECT unless VIRTIO_F_INDIRECT_DESC was negotiated...
        if (!_indirectEnabled)
        {
            return VirtqueueError.IndirectNotNegotiated;
        }

        // ...and MUST NOT set both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT.
        // (The WRITE flag of this descriptor is ignored: §2.7.5.3.2 "Device Requirements: Indirect Descriptors".)
        if ((pointer.Flags & DescriptorFlags.Next) != 0)
        {
            return VirtqueueError.IndirectWithNext;
        }

        // GV6; VIRTIO 1.3 §2.7.5.3 "Indirect Descriptors": the table is desc[len / 16]. A zero or
        // non-multiple length is malformed (QEMU #3984: never assert on it); more entries than the
        // queue size breaks "MUST NOT create a descriptor chain longer than the Queue Size" (§2.7.5.3.1).
        uint length = pointer.Length;
        if (length == 0 || (length % Descriptor.Size) != 0 || length / Descriptor.Size > (uint)_size)
        {
            return VirtqueueError.InvalidIndirectTableLength;
        }

        // GV7: addr + len must not wrap.
        if (!pointer.Address.IsRangeValid(length))
        {
            return VirtqueueError.AddressOverflow;
        }

        return VirtqueueError.None;
    }

    private VirtqueueError WalkIndirectTable(in Descriptor pointer, ref ChainBuilder builder)
    {
        VirtqueueError pointerError = CheckIndirectPointer(in pointer);
        if (pointerError != VirtqueueError.None)
        {
            return pointerError;
        }

        uint length = pointer.Length;
        int entries = (int)(length / Descriptor.Size);

        // GV9: the whole table must be readable guest memory (VQ-4: any alignment is accepted; bytes are decoded safely).
        IGuestMemory memory = _memory!;
        RegionGuestMemory? regions = _regionMemory;
        GuestMemoryError memoryError = regions is not null
            ? regions.TryGetSpan(pointer.Address, (int)length, GuestMemoryAccess.Read, out Span<byte> table)
            : memory.TryGetSpan(pointer.Address, (int)length, GuestMemoryAccess.Read, out table);
        bool stitched = false;
        if (memoryError == GuestMemoryError.CrossesRegionBoundary)
        {
            // Table spans regions: check it all, then read entry by entry with stitched copies.
            memoryError = regions is not null
                ? regions.CheckRange(pointer.Address, length, GuestMemoryAccess.Read)
                : GuestRangeValidator.Check(memory, pointer.Address, length, GuestMemoryAccess.Read);
            stitched = true;
        }

        if (memoryError != GuestMemoryError.None)
        {
            return MapMemoryError(memoryError);
        }

        int index = 0;
        int steps = 0;
        while (true)
        {
            // GV4 / TTL within the table: at most one visit per entry.
            if (++steps > entries)
            {
                return VirtqueueError.ChainTooLong;
            }

            Descriptor descriptor;
            if (!stitched && BitConverter.IsLittleEndian && Unsafe.SizeOf<Descriptor>() == Descriptor.Size)
            {
                // SAFETY: index < entries (0, or a next checked below), so the 16 bytes lie in the table span.
                descriptor = Unsafe.ReadUnaligned<Descriptor>(ref Unsafe.Add(ref MemoryMarshal.GetReference(table), index * Descriptor.Size));
            }
            else if (!stitched)
            {
                descriptor = Decode(table.Slice(index * Descriptor.Size, Descriptor.Size));
            }
            else if (!TryReadDescriptorGeneric(memory, new GuestAddress(pointer.Address.Value + ((ulong)(uint)index * Descriptor.Size)), out descriptor))
            {
                return VirtqueueError.GuestMemoryUnavailable;
            }

            // GV5; VIRTIO 1.3 §2.7.5.3.1: no VIRTQ_DESC_F_INDIRECT within an indirect table.
            if ((descriptor.Flags & DescriptorFlags.Indirect) != 0)
            {
                return VirtqueueError.NestedIndirectTable;
            }

            VirtqueueError error = builder.Append(this, in descriptor);
            if (error != VirtqueueError.None)
            {
                return error;
            }

            if ((descriptor.Flags & DescriptorFlags.Next) == 0)
            {
                return VirtqueueError.None;
            }

            // GV2: next indexes the indirect table, which has len / 16 entries.
            if (descriptor.Next >= entries)
            {
                return VirtqueueError.InvalidDescriptorIndex;
            }

            index = descriptor.Next;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static VirtqueueError MapMemoryError(GuestMemoryError error)
        => error == GuestMemoryError.AddressOverflow ? VirtqueueError.AddressOverflow : VirtqueueError.GuestMemoryUnavailable;

    /// <summary>Accumulates the flattened buffer descriptors of one chain into the queue's scratch array.</summary>
    private struct ChainBuilder
    {
        // Mutable struct: passed by ref, never copied.
        private readonly Descriptor[] _scratch;
        private readonly int _capacity;
        private bool _resolved;

        public ChainBuilder(Descriptor[] scratch, int capacity, int count, int readableCount, ulong readableLength, ulong writableLength, bool resolved)
        {
            _resolved = resolved;
            _scratch = scratch;
            _capacity = capacity;
            Count = count;
            ReadableCount = readableCount;
            ReadableLength = readableLength;
            WritableLength = writableLength;
        }

        public int Count { get; private set; }

        public int ReadableCount { get; private set; }

        public ulong ReadableLength { get; private set; }

        public ulong WritableLength { get; private set; }

        /// <summary>Whether every buffer so far lies in the queue's cached buffer region.</summary>
        public readonly bool Resolved => _resolved;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public VirtqueueError Append(SplitQueue queue, in Descriptor descriptor)
        {
            // GV4; VIRTIO 1.3 §2.7.5.3.1 "Driver Requirements: Indirect Descriptors": "A driver MUST NOT
            // create a descriptor chain longer than the Queue Size of the device" (indirect entries included).
            if (Count >= _capacity)
            {
                return VirtqueueError.ChainTooLong;
            }

            // GV7; VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table": addr + len must not wrap (OpenVMM #4047).
            uint length = descriptor.Length;
            if (!descriptor.Address.IsRangeValid(length))
            {
                return VirtqueueError.AddressOverflow;
            }

            GuestMemoryAccess access;
            if ((descriptor.Flags & DescriptorFlags.Write) != 0)
            {
                WritableLength += length;
                access = GuestMemoryAccess.Write;
            }
            else
            {
                // GV8; VIRTIO 1.3 §2.7.4.2 "Driver Requirements: Message Framing": "The driver MUST place any
                // device-writable descriptor elements after any device-readable descriptor elements."
                // Decision: reject (a reader/writer split that is ambiguous is never guessed).
                if (Count != ReadableCount)
                {
                    return VirtqueueError.ReadableAfterWritable;
                }

                ReadableLength += length;
                ReadableCount++;
                access = GuestMemoryAccess.Read;
            }

            // GV7; VIRTIO 1.3 §2.7.5.2 "Driver Requirements: The Virtqueue Descriptor Table": no chain
            // longer than 2^32 bytes in total. The used length is 32-bit, so 2^32 itself is refused too.
            if (ReadableLength + WritableLength > uint.MaxValue)
            {
                return VirtqueueError.ChainLengthOverflow;
            }

            // GV9 / VM-1; VIRTIO 1.3 §2.7.5.1 "Device Requirements: The Virtqueue Descriptor Table": the
            // whole buffer must be guest memory with the access the device will make (write only to
            // device-writable buffers). CVE-2018-1059 / CVE-2019-18960 class.
            GuestMemoryError memoryError = queue.CheckBuffer(descriptor.Address.Value, length, access, Count == 0, ref _resolved);
            if (memoryError != GuestMemoryError.None)
            {
                return MapMemoryError(memoryError);
            }

            _scratch[Count++] = descriptor;
            return VirtqueueError.None;
        }
    }
}
