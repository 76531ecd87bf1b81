// SPDX-License-Identifier: MIT
using System.Diagnostics;
using VirtioGpio.Device.Internal;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <summary>
/// The device side of one split virtqueue (VIRTIO 1.3 §2.7 "Split Virtqueues").
/// </summary>
/// <remarks>
/// <para>Not thread-safe: owned by the device, which serialises every access. Nothing the guest
/// writes makes it throw or allocate: guest faults come back as <see cref="VirtqueueError"/>
/// values. Chain-level faults complete the chain with used length 0 and the pop goes on with the
/// next chain; ring-level faults mark the queue broken (<see cref="IsBroken"/>) until
/// <see cref="Reset"/> or <see cref="TrySetState(SplitQueueState)"/>.</para>
/// <para>Exceptions are thrown only for host programming errors (an invalid maximum size,
/// changing the memory or features of a ready queue).</para>
/// <para>Heads are tracked from pop to <see cref="AddUsed(ushort, uint)"/>: a head can be completed
/// once per pop, so a driver cannot make the device complete a chain twice, and the number of
/// chains in flight never exceeds the queue size.</para>
/// <para>See docs/virtqueue.md for every validation rule, its spec clause and its test.</para>
/// </remarks>
/// <example>
/// <code>
/// var queue = new SplitQueue(256) { Memory = memory };
/// queue.TrySetSize(256);
/// queue.TrySetAddresses(new GuestAddress(0x0), new GuestAddress(0x1000), new GuestAddress(0x2000));
/// if (queue.TryActivate() != VirtqueueError.None) { /* refuse the queue */ }
///
/// // On each driver notification:
/// Span&lt;byte&gt; request = stackalloc byte[8];
/// while (queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error))
/// {
///     DescriptorChainReader reader = chain.CreateReader();
///     DescriptorChainWriter writer = chain.CreateWriter();
///     if (reader.TryReadExactly(request)) { writer.TryWriteExactly(stackalloc byte[] { 0, 1 }); }
///     queue.AddUsed(chain.HeadIndex, writer.BytesWritten);
/// }
/// // error != None here means the queue broke: set DEVICE_NEEDS_RESET.
/// if (queue.NeedsNotification()) { /* raise the used-buffer interrupt */ }
/// </code>
/// </example>
public sealed partial class SplitQueue
{
    /// <summary>The largest queue size the split ring allows.</summary>
    public const int MaxQueueSize = 32768;

    private readonly ushort _maxSize;

    // Mutable configuration (only while not ready).
    private ushort _size;
    private ushort _mask;
    private IGuestMemory? _memory;
    private RegionGuestMemory? _regionMemory; // _memory when it is a RegionGuestMemory: non-virtual fast path
    private GuestAddress _descriptorTable;
    private GuestAddress _availRing;
    private GuestAddress _usedRing;
    private bool _indirectEnabled;
    private bool _eventIdxEnabled;

    // Run state.
    private bool _ready;
    private bool _broken;
    private VirtqueueError _brokenReason;
    private ushort _nextAvail;
    private ushort _nextUsed;
    private ushort _availIdxShadow;   // last valid avail.idx read; re-read only when _nextAvail reaches it
    private ushort _lastNotifyUsed;   // used idx at the previous NeedsNotification call
    private bool _notifyBaselineValid;
    private long _invalidChainCount;
    private VirtqueueError _lastChainError;
    private int _inFlightCount;

    // Preallocated per-queue storage (sized at activation; never allocated on the hot path).
    private Descriptor[] _scratch = Array.Empty<Descriptor>();

    // Shape of the chain the last walk put into _scratch (fields, not out parameters: the walk keeps its state in registers).
    private int _walkCount;
    private int _walkReadableCount;
    private uint _walkReadableLength;
    private uint _walkWritableLength;
    private bool _walkResolved;       // every buffer of the walked chain lies in the cached buffer region
    private bool[] _inFlight = Array.Empty<bool>();

    // Host bases of the ring parts, resolved at activation when the memory is a RegionGuestMemory, the part
    // lies in one region and its host location is 2-byte aligned (ResolveRingHost); otherwise invalid and the
    // generic IGuestMemory path is used. At(relative) addresses the part's byte at that offset.
    private HostBase _descHost;
    private HostBase _availHost;
    private HostBase _usedHost;

    // The region that held the most recent buffers (CheckBuffer): [start, start + length) with its access
    // and host base. Length 0 = none cached. Reset at activation.
    private ulong _bufferStart;
    private ulong _bufferLength;
    private GuestMemoryAccess _bufferAccess;
    private HostBase _bufferHost;

    /// <summary>Creates an unconfigured queue.</summary>
    /// <param name="maxSize">The largest size the device accepts: a power of two, 1..32768.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSize"/> is not a power of two in range.</exception>
    public SplitQueue(int maxSize)
    {
        // VIRTIO 1.3 §2.7 "Split Virtqueues": "Queue Size value is always a power of 2. The maximum Queue Size value is 32768."
        if (!IsValidQueueSize(maxSize))
        {
            ThrowHelper.ThrowArgumentOutOfRangeException(nameof(maxSize), maxSize, "The maximum queue size must be a power of two between 1 and 32768.");
        }

        _maxSize = (ushort)maxSize;
        _notifyBaselineValid = true;
    }

    /// <summary>The largest size the device accepts (QueueSizeMax / QueueNumMax).</summary>
    public ushort MaxSize => _maxSize;

    /// <summary>The configured size, or 0 when unset (after construction and <see cref="Reset"/>; transports that expose a default size, such as virtio-pci, set <see cref="MaxSize"/> themselves).</summary>
    public ushort Size => _size;

    /// <summary>Guest memory the rings and buffers live in; set by the device or transport while the queue is not ready.</summary>
    /// <exception cref="InvalidOperationException">Set while the queue is ready (deactivate it first).</exception>
    public IGuestMemory? Memory
    {
        get => _memory;
        set
        {
            ThrowIfReady();
            _memory = value;
            _regionMemory = value as RegionGuestMemory;
        }
    }

    /// <summary>Guest address of the descriptor table.</summary>
    public GuestAddress DescriptorTableAddress => _descriptorTable;

    /// <summary>Guest address of the avail ring.</summary>
    public GuestAddress AvailRingAddress => _availRing;

    /// <summary>Guest address of the used ring.</summary>
    public GuestAddress UsedRingAddress => _usedRing;

    /// <summary>Whether VIRTIO_F_RING_INDIRECT_DESC was negotiated.</summary>
    /// <exception cref="InvalidOperationException">Set while the queue is ready.</exception>
    public bool IndirectDescriptorsEnabled
    {
        get => _indirectEnabled;
        set
        {
            ThrowIfReady();
            _indirectEnabled = value;
        }
    }

    /// <summary>Whether VIRTIO_F_RING_EVENT_IDX was negotiated.</summary>
    /// <exception cref="InvalidOperationException">Set while the queue is ready.</exception>
    public bool EventIdxEnabled
    {
        get => _eventIdxEnabled;
        set
        {
            ThrowIfReady();
            _eventIdxEnabled = value;
        }
    }

    /// <summary>Whether the queue was activated (and not deactivated or reset). A ready queue may still be <see cref="IsBroken"/>.</summary>
    public bool IsReady => _ready;

    /// <summary>Whether a ring-level error stopped the queue until reset.</summary>
    public bool IsBroken => _broken;

    /// <summary>The ring-level error that broke the queue.</summary>
    public VirtqueueError BrokenReason => _brokenReason;

    /// <summary>Free-running index of the next avail entry to take.</summary>
    public ushort NextAvailIndex => _nextAvail;

    /// <summary>Free-running index of the next used entry to publish.</summary>
    public ushort NextUsedIndex => _nextUsed;

    /// <summary>Number of chains popped (or read) and not yet completed with <see cref="AddUsed(ushort, uint)"/>.</summary>
    public int InFlightCount => _inFlightCount;

    /// <summary>Number of malformed chains since the queue was created: completed with used length 0 (or, for <see cref="VirtqueueError.HeadAlreadyInFlight"/>, skipped).</summary>
    public long InvalidChainCount => _invalidChainCount;

    /// <summary>The error of the most recent malformed chain.</summary>
    public VirtqueueError LastChainError => _lastChainError;

    /// <summary>Optional inflight tracker (vhost-user INFLIGHT_SHMFD).</summary>
    public ISplitQueueTracker? Tracker { get; set; }

    /// <summary>
    /// Optional observer of malformed chains, called on the queue's worker after the chain was
    /// completed with used length 0 (head index, reason). Use it to log (rate-limited) or count
    /// per-device metrics; it must not throw and must not call back into the queue.
    /// </summary>
    public Action<ushort, VirtqueueError>? InvalidChainCallback { get; set; }

    /// <summary>Sets the queue size.</summary>
    /// <param name="size">A power of two, 1..<see cref="MaxSize"/>.</param>
    /// <returns><see langword="false"/> when the size is invalid or the queue is ready.</returns>
    public bool TrySetSize(int size)
    {
        // VIRTIO 1.3 §2.7 "Split Virtqueues": power of 2, at most 32768 (and at most what the device offers).
        if (_ready || !IsValidQueueSize(size) || size > _maxSize)
        {
            return false;
        }

        if (size != _size)
        {
            // A different ring: heads taken from the old one can no longer be completed.
            ClearInFlight();
        }

        _size = (ushort)size;
        _mask = (ushort)(size - 1);
        AssertInvariants();
        return true;
    }

    /// <summary>Sets the three ring addresses, checking the spec's alignment (16, 2, 4).</summary>
    /// <param name="descriptorTable">Descriptor table address.</param>
    /// <param name="availRing">Avail ring address.</param>
    /// <param name="usedRing">Used ring address.</param>
    /// <returns><see langword="false"/> when misaligned or the queue is ready.</returns>
    public bool TrySetAddresses(GuestAddress descriptorTable, GuestAddress availRing, GuestAddress usedRing)
    {
        // VIRTIO 1.3 §2.7.1 "Driver Requirements: Virtqueues": each part aligned to 16 / 2 / 4.
        if (_ready || !AreAddressesAligned(descriptorTable, availRing, usedRing))
        {
            return false;
        }

        _descriptorTable = descriptorTable;
        _availRing = availRing;
        _usedRing = usedRing;
        return true;
    }

    /// <summary>Makes the queue ready after checking size, memory and that every ring range lies in guest memory.</summary>
    /// <returns><see cref="VirtqueueError.None"/> on success (also when already ready); <see cref="VirtqueueError.QueueNotReady"/>
    /// when the size or memory is missing; <see cref="VirtqueueError.RingMemoryUnavailable"/> when a ring is not entirely
    /// backed by guest memory with the needed access; <see cref="VirtqueueError.QueueBroken"/> when broken (reset first).</returns>
    public VirtqueueError TryActivate()
    {
        if (_broken)
        {
            return VirtqueueError.QueueBroken;
        }

        if (_ready)
        {
            return VirtqueueError.None;
        }

        IGuestMemory? memory = _memory;
        if (_size == 0 || memory is null)
        {
            return VirtqueueError.QueueNotReady;
        }

        // GV9 / N14: the whole range of every ring part, not only its start, must be backed
        // (VIRTIO 1.3 §2.7 "Split Virtqueues", size table; CVE-2018-1059 class).
        if (!IsRingBacked(memory, _descriptorTable, GetDescriptorTableSize(_size), GuestMemoryAccess.Read)
            || !IsRingBacked(memory, _availRing, GetAvailRingSize(_size), GuestMemoryAccess.Read)
            || !IsRingBacked(memory, _usedRing, GetUsedRingSize(_size), GuestMemoryAccess.Write))
        {
            return VirtqueueError.RingMemoryUnavailable;
        }

        if (_scratch.Length < _size)
        {
            _scratch = new Descriptor[_size];
        }

        if (_inFlight.Length < _size)
        {
            bool[] inFlight = new bool[_size];
            Array.Copy(_inFlight, inFlight, _inFlight.Length);
            _inFlight = inFlight;
        }

        _descHost = ResolveRingHost(_descriptorTable, GetDescriptorTableSize(_size), GuestMemoryAccess.Read);
        _availHost = ResolveRingHost(_availRing, GetAvailRingSize(_size), GuestMemoryAccess.Read);
        _usedHost = ResolveRingHost(_usedRing, GetUsedRingSize(_size), GuestMemoryAccess.Write);
        ClearBufferCache();
        _availIdxShadow = _nextAvail;
        _ready = true;
        AssertInvariants();
        return VirtqueueError.None;
    }

    /// <summary>Stops all ring access; state (indices, heads in flight, configuration) is kept.</summary>
    public void Deactivate()
    {
        _ready = false;
        _descHost = default;
        _availHost = default;
        _usedHost = default;
        ClearBufferCache();
        AssertInvariants();
    }

    /// <summary>
    /// Forgets every head in flight without completing it (VIRTIO 1.3 §2.6.1 "Virtqueue Reset": buffers the
    /// device held are not returned). Call it when the device drops the chains it holds, so the
    /// same heads can be popped again when the driver re-offers them. Indices and configuration are kept.
    /// </summary>
    public void DiscardInFlight()
    {
        ClearInFlight();
        AssertInvariants();
    }

    /// <summary>
    /// Returns the queue to its unconfigured state: size 0, addresses 0, indices 0, features off,
    /// not ready, not broken, nothing in flight. <see cref="Memory"/>, <see cref="MaxSize"/>,
    /// <see cref="Tracker"/>, <see cref="InvalidChainCallback"/> and <see cref="InvalidChainCount"/> are kept.
    /// </summary>
    public void Reset()
    {
        Deactivate();
        _size = 0;
        _mask = 0;
        _descriptorTable = default;
        _availRing = default;
        _usedRing = default;
        _indirectEnabled = false;
        _eventIdxEnabled = false;
        _broken = false;
        _brokenReason = VirtqueueError.None;
        _nextAvail = 0;
        _nextUsed = 0;
        _availIdxShadow = 0;
        _lastNotifyUsed = 0;
        _notifyBaselineValid = true;
        _lastChainError = VirtqueueError.None;
        ClearInFlight();
        AssertInvariants();
    }

    /// <summary>Captures the state for save/restore and vhost-user GET_VRING_BASE.</summary>
    /// <returns>The current state.</returns>
    public SplitQueueState GetState() => new(_size, _descriptorTable, _availRing, _usedRing, _nextAvail, _nextUsed);

    /// <summary>
    /// Restores a captured state while the queue is not ready. Clears the broken flag and the
    /// heads in flight (a restored device no longer holds any chain; inflight resubmission goes
    /// through <see cref="TryReadChain(ushort, out DescriptorChain, out VirtqueueError)"/>).
    /// The first <see cref="NeedsNotification"/> afterwards returns <see langword="true"/>.
    /// </summary>
    /// <param name="state">The state to restore.</param>
    /// <returns><see langword="false"/> when the state is invalid (size not 0 or a power of two up to <see cref="MaxSize"/>, misaligned addresses) or the queue is ready.</returns>
    public bool TrySetState(SplitQueueState state)
    {
        if (_ready)
        {
            return false;
        }

        if (state.Size != 0 && (!IsValidQueueSize(state.Size) || state.Size > _maxSize))
        {
            return false;
        }

        if (!AreAddressesAligned(state.DescriptorTable, state.AvailRing, state.UsedRing))
        {
            return false;
        }

        _size = state.Size;
        _mask = state.Size == 0 ? (ushort)0 : (ushort)(state.Size - 1);
        _descriptorTable = state.DescriptorTable;
        _availRing = state.AvailRing;
        _usedRing = state.UsedRing;
        _nextAvail = state.NextAvailIndex;
        _availIdxShadow = state.NextAvailIndex;
        _nextUsed = state.NextUsedIndex;
        _lastNotifyUsed = state.NextUsedIndex;
        _notifyBaselineValid = false;
        _broken = false;
        _brokenReason = VirtqueueError.None;
        ClearInFlight();
        AssertInvariants();
        return true;
    }

    /// <summary>Sets the next-avail index (vhost-user SET_VRING_BASE) while the queue is not ready. Clears the heads in flight.</summary>
    /// <param name="nextAvailIndex">The free-running index.</param>
    /// <returns><see langword="false"/> when the queue is ready.</returns>
    public bool TrySetNextAvailIndex(ushort nextAvailIndex)
    {
        if (_ready)
        {
            return false;
        }

        _nextAvail = nextAvailIndex;
        _availIdxShadow = nextAvailIndex;
        ClearInFlight();
        AssertInvariants();
        return true;
    }

    /// <summary>
    /// Reads <c>used.idx</c> from guest memory into <see cref="NextUsedIndex"/> (vhost-user ring
    /// start, where the front-end owns the used index). Needs the size, the used-ring address and
    /// the memory; works whether or not the queue is ready.
    /// </summary>
    /// <returns><see cref="VirtqueueError.None"/> on success; <see cref="VirtqueueError.QueueNotReady"/> when unconfigured;
    /// <see cref="VirtqueueError.RingMemoryUnavailable"/> when <c>used.idx</c> cannot be read.</returns>
    public VirtqueueError TrySyncUsedIndexFromRing()
    {
        IGuestMemory? memory = _memory;
        if (_size == 0 || memory is null)
        {
            return VirtqueueError.QueueNotReady;
        }

        if (!_usedRing.TryAdd(UsedIdxOffset, out GuestAddress address)
            || memory.TryLoadAcquireUInt16(address, out ushort usedIdx) != GuestMemoryError.None)
        {
            return VirtqueueError.RingMemoryUnavailable;
        }

        _nextUsed = usedIdx;
        _lastNotifyUsed = usedIdx;
        _notifyBaselineValid = false;
        AssertInvariants();
        return VirtqueueError.None;
    }

    /// <inheritdoc/>
    public override string ToString()
        => $"SplitQueue(size {_size}/{_maxSize}, {(_ready ? "ready" : "not ready")}{(_broken ? ", broken: " + _brokenReason : string.Empty)}, avail {_nextAvail}, used {_nextUsed}, in flight {_inFlightCount})";

    private static bool AreAddressesAligned(GuestAddress descriptorTable, GuestAddress availRing, GuestAddress usedRing)
        => descriptorTable.IsAligned(DescriptorTableAlignment) && availRing.IsAligned(AvailRingAlignment) && usedRing.IsAligned(UsedRingAlignment);

    private static bool IsRingBacked(IGuestMemory memory, GuestAddress start, ulong length, GuestMemoryAccess access)
    {
        if (!start.IsRangeValid(length))
        {
            return false;
        }

        return (memory is RegionGuestMemory regions
            ? regions.CheckRange(start, length, access)
            : GuestRangeValidator.Check(memory, start, length, access)) == GuestMemoryError.None;
    }

    private void ThrowIfReady()
    {
        if (_ready)
        {
            ThrowHelper.ThrowInvalidOperationException("The queue is ready: deactivate it before changing its memory or features.");
        }
    }

    private void ClearInFlight()
    {
        Array.Clear(_inFlight, 0, _inFlight.Length);
        _inFlightCount = 0;
    }

    /// <summary>Marks the queue broken by a ring-level guest error and returns that error.</summary>
    private VirtqueueError Break(VirtqueueError reason)
    {
        if (!_broken)
        {
            _broken = true;
            _brokenReason = reason;
        }

        AssertInvariants();
        return reason;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_size == 0 || (IsValidQueueSize(_size) && _size <= _maxSize), "size is 0 or a power of two up to the maximum");
        Debug.Assert(_size == 0 || _mask == _size - 1, "mask matches size");
        Debug.Assert(!_ready || (_memory is not null && _size != 0), "a ready queue has memory and a size");
        Debug.Assert(!_ready || _scratch.Length >= _size, "scratch covers the queue size");
        Debug.Assert(!_ready || _broken || unchecked((ushort)(_availIdxShadow - _nextAvail)) <= _size, "pending avail entries never exceed the queue size"); // wraps by design: 16-bit ring index
        Debug.Assert(_inFlightCount >= 0 && (_size == 0 || _inFlightCount <= _size || !_ready), "chains in flight never exceed the queue size");
        Debug.Assert(_broken == (_brokenReason != VirtqueueError.None), "broken iff a reason is recorded");
    }
}
