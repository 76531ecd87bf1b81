// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Gpio.Draft;

/// <summary>
/// The pre-standard virtio-gpio device of the December 2020 draft (device ID 30 by default; DRAFT.md), served to the
/// draft Linux driver. An explicit legacy mode: the dialect is chosen by constructing this type, never auto-detected.
/// </summary>
/// <remarks>
/// <para><b>Queues</b> (DRAFT.md §3.1): queue 0 ("in") holds driver-posted 8-byte buffers the device writes replies and
/// (opt-in) <c>HOST_LEVEL</c> messages into; queue 1 ("out") carries the driver's 8-byte requests.</para>
/// <para><b>Reply algorithm</b> (DRAFT.md §5), per q1 avail entry in FIFO order: read the 8-byte request (never write
/// it); compute the reply from the device's line model; take the <em>oldest</em> available q0 buffer, check it is
/// writable with at least 8 bytes and write exactly 8 bytes; publish <c>{q0 head, len 8}</c> on q0's used ring (never
/// notify q0); then publish <c>{q1 head, len 0}</c> on q1's used ring; then notify q1 once. When no q0 buffer is
/// available the reply is parked and the q1 entry is not completed until the driver posts one (DRAFT.md §10 test 18).
/// Exactly one reply per request. q1's <c>used_event</c> is ignored: q1 is notified for every reply (DRAFT.md §3.5).
/// Several requests in one kick are served FIFO while rx buffers last (DRAFT.md §10 test 19). The test's stretch goal
/// (hold a second reply until the driver re-posts an rx buffer) is deliberately not implemented: in the B8 case the
/// waiting caller holds the driver's RPC mutex, so no re-post can come and the hold would hang it forever.</para>
/// <para><b>Values</b> (DRAFT.md §4.2): success is 0; errors are negative errno (−EPERM, −EIO, −EINVAL, −EOPNOTSUPP);
/// GET_DIRECTION answers 1 = input, 0 = output; REQUEST is idempotent (there is no release message). Lines start as
/// inputs; SET_VALUE on a non-output replies −EPERM unless <see cref="DraftVirtioGpioDeviceOptions.AllowSetValueOnInput"/>.
/// The reply type is the request type OR the reply mask; a type whose stripped value would be ≥ 64 or whose reply
/// would read as HOST_LEVEL (0x0011) is answered with the bare mask instead (DRAFT.md B12).</para>
/// <para><b>Features</b>: VIRTIO_F_VERSION_1 only, never EVENT_IDX (DRAFT.md §1, §3.5).</para>
/// <para><b>Errors</b>: a ring-level fault on either queue, a malformed q0 chain, or a q0 buffer that is not writable or
/// shorter than 8 bytes sets <see cref="NeedsReset"/> (DEVICE_NEEDS_RESET) and sends a configuration-change
/// notification; the device then stops until <see cref="Reset"/> (DRAFT.md §10 test 17). Nothing the guest writes
/// throws.</para>
/// <para><b>Threading</b>: every member may be called from any thread; one internal lock serialises them and the
/// backend's line events. Interrupts are raised while holding it, so C0 → C1 → N1 are observed in that order.</para>
/// </remarks>
/// <example>
/// <code>
/// var device = new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { ChipName = "draft-gpio", LineCount = 8 });
/// // transport: TryAcceptFeatures, configure GetQueue(0/1), Activate(memory, interrupts), SetQueueReady(0/1), NotifyQueue(1) per kick
/// </code>
/// </example>
public sealed class DraftVirtioGpioDevice : IVirtioDevice, IDisposable
{
    /// <summary>Index of queue 0, "in": device → driver messages.</summary>
    public const int ReplyQueueIndex = 0;

    /// <summary>Index of queue 1, "out": driver → device requests.</summary>
    public const int RequestQueueIndex = 1;

    /// <summary>The HOST_LEVEL message type, sent without mask bits (DRAFT.md §6).</summary>
    private const ushort HostLevelType = 0x0011;

    private const int EPERM = 1;
    private const int EIO = 5;
    private const int EINVAL = 22;
    private const int EOPNOTSUPP = 95;
    private const int MaxLoggedGuestErrors = 32;

    private readonly object _gate = new();
    private readonly ILogger _logger;
    private readonly GpioLineBackend _backend;
    private readonly bool _ownsBackend;
    private readonly DraftGpioConfig _config;
    private readonly ushort _replyMask;
    private readonly bool _enableHostLevel;
    private readonly bool _allowSetValueOnInput;
    private readonly SplitQueue _replyQueue;
    private readonly SplitQueue _requestQueue;
    private readonly bool[] _isOutput;
    private readonly Queue<ParkedReply> _parked;
    private readonly Queue<ushort> _replyInflight = new();
    private readonly Queue<ushort> _requestResubmit = new();
    private readonly HostLevelSink? _sink;
    private readonly byte[] _requestScratch = new byte[DraftGpioMessage.Size]; // guarded by _gate
    private readonly byte[] _replyScratch = new byte[DraftGpioMessage.Size];   // guarded by _gate
    private IVirtioInterruptSink? _interrupts;
    private ulong _driverFeatures;
    private bool _active;
    private bool _needsReset;
    private bool _disposed;
    private long _completedRequests;
    private long _hostLevelMessages;
    private bool _hostLevelAwaitingRxPost;
    private ushort _hostLevelAvailMark;
    private int _loggedGuestErrors;

    /// <summary>Creates a draft device.</summary>
    /// <param name="options">Options; defaults when <see langword="null"/>.</param>
    /// <param name="backend">The lines; when <see langword="null"/> the device creates (and owns) a <see cref="SimulatedGpioLineBackend"/>
    /// with the configured line count and names. A given backend is not disposed by the device.</param>
    /// <param name="logger">Logger; none when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid, the names do not fit the config limit, or the backend has more than 256 lines or a different count than <see cref="DraftVirtioGpioDeviceOptions.LineCount"/>.</exception>
    public DraftVirtioGpioDevice(DraftVirtioGpioDeviceOptions? options = null, GpioLineBackend? backend = null, ILogger? logger = null)
    {
        options ??= new DraftVirtioGpioDeviceOptions();
        options.Validate();
        _logger = logger ?? NullLogger.Instance;

        int lineCount;
        if (backend is null)
        {
            lineCount = options.LineCount ?? 8;
            IReadOnlyList<string?> names = options.LineNames ?? Array.Empty<string?>();
            var backendNames = new string?[lineCount];
            for (int i = 0; i < names.Count && i < lineCount; i++)
            {
                backendNames[i] = names[i];
            }

            backend = new SimulatedGpioLineBackend(new GpioLineNames(backendNames), options.TimeProvider);
            _ownsBackend = true;
        }
        else
        {
            lineCount = backend.LineCount;
            if (options.LineCount is int wanted && wanted != lineCount)
            {
                throw new ArgumentException($"LineCount {wanted} differs from the backend's {lineCount} lines.", nameof(options));
            }
        }

        _backend = backend;
        IReadOnlyList<string?> lineNames = options.LineNames ?? NamesFromBackend(backend, lineCount);
        _config = DraftGpioConfig.Create(lineCount, options.ChipName, lineNames, options.NamesSizePolicy, options.MaxConfigSize);
        DeviceId = options.DeviceId;
        _replyMask = options.ReplyMask;
        _enableHostLevel = options.EnableHostLevel;
        _allowSetValueOnInput = options.AllowSetValueOnInput;
        _replyQueue = new SplitQueue(options.ReplyQueueMaxSize);
        _requestQueue = new SplitQueue(options.RequestQueueMaxSize);
        _isOutput = new bool[lineCount];
        _parked = new Queue<ParkedReply>(options.RequestQueueMaxSize);
        ResetLinesLocked();
        if (_enableHostLevel)
        {
            _sink = new HostLevelSink(this);
            _backend.Attach(_sink);
        }
    }

    /// <inheritdoc/>
    public uint DeviceId { get; }

    /// <summary>VIRTIO_F_VERSION_1 only (DRAFT.md §0 rule 6): no EVENT_IDX, no packed ring, no device-specific bits.</summary>
    public ulong DeviceFeatures => VirtioFeatures.Version1;

    /// <inheritdoc/>
    public ulong DriverFeatures
    {
        get
        {
            lock (_gate)
            {
                return _driverFeatures;
            }
        }
    }

    /// <inheritdoc/>
    public int ConfigSize => _config.Size;

    /// <summary>Constant: the configuration never changes after reset (DRAFT.md §2.1).</summary>
    public uint ConfigGeneration => 0;

    /// <summary>2: queue 0 ("in") and queue 1 ("out").</summary>
    public int QueueCount => 2;

    /// <inheritdoc/>
    public bool IsActive
    {
        get
        {
            lock (_gate)
            {
                return _active;
            }
        }
    }

    /// <inheritdoc/>
    public bool NeedsReset
    {
        get
        {
            lock (_gate)
            {
                return _needsReset;
            }
        }
    }

    /// <summary>The configuration image.</summary>
    public DraftGpioConfig Config => _config;

    /// <summary>The lines.</summary>
    public GpioLineBackend Backend => _backend;

    /// <summary>The reply mask in use.</summary>
    public ushort ReplyMask => _replyMask;

    /// <summary>Requests answered (q1 entries completed) since the last reset.</summary>
    public long CompletedRequestCount
    {
        get
        {
            lock (_gate)
            {
                return _completedRequests;
            }
        }
    }

    /// <summary>Replies waiting for a q0 buffer.</summary>
    public int ParkedReplyCount
    {
        get
        {
            lock (_gate)
            {
                return _parked.Count;
            }
        }
    }

    /// <summary>HOST_LEVEL messages sent since the last reset.</summary>
    public long HostLevelMessageCount
    {
        get
        {
            lock (_gate)
            {
                return _hostLevelMessages;
            }
        }
    }

    /// <summary>Whether the guest configured <paramref name="lineNumber"/> as an output (the device's authoritative line model).</summary>
    /// <param name="lineNumber">0 .. line count - 1.</param>
    /// <returns><see langword="true"/> for an output.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineNumber"/> is out of range.</exception>
    public bool IsOutput(int lineNumber)
    {
        if (unchecked((uint)lineNumber) >= (uint)_isOutput.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(lineNumber), lineNumber, $"Expected 0..{_isOutput.Length - 1}.");
        }

        lock (_gate)
        {
            return _isOutput[lineNumber];
        }
    }

    /// <inheritdoc/>
    public bool TryAcceptFeatures(ulong driverFeatures)
    {
        if ((driverFeatures & ~DeviceFeatures) != 0)
        {
            return false;
        }

        lock (_gate)
        {
            _driverFeatures = driverFeatures;
            return true;
        }
    }

    /// <inheritdoc/>
    public void ReadConfig(uint offset, Span<byte> destination) => _config.Read(offset, destination);

    /// <summary>Ignored: the draft config is read-only.</summary>
    /// <param name="offset">Byte offset.</param>
    /// <param name="source">Bytes written.</param>
    public void WriteConfig(uint offset, ReadOnlySpan<byte> source)
    {
    }

    /// <inheritdoc/>
    public SplitQueue GetQueue(int queueIndex) => queueIndex switch
    {
        ReplyQueueIndex => _replyQueue,
        RequestQueueIndex => _requestQueue,
        _ => throw new ArgumentOutOfRangeException(nameof(queueIndex), queueIndex, "The draft device has queues 0 and 1."),
    };

    /// <summary>
    /// Starts the device (DRAFT.md §3.3): binds memory and the interrupt sink and applies the negotiated features (no
    /// indirect descriptors or EVENT_IDX are offered, so both stay off). A q0 kick that arrived earlier is harmless:
    /// q0 buffers are only taken when a reply needs one (B18).
    /// </summary>
    /// <param name="memory">Guest memory.</param>
    /// <param name="interrupts">Where notifications go.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public void Activate(IGuestMemory memory, IVirtioInterruptSink interrupts)
    {
        if (memory is null)
        {
            throw new ArgumentNullException(nameof(memory));
        }

        if (interrupts is null)
        {
            throw new ArgumentNullException(nameof(interrupts));
        }

        lock (_gate)
        {
            foreach (SplitQueue queue in new[] { _replyQueue, _requestQueue })
            {
                if (!queue.IsReady)
                {
                    queue.Memory = memory;
                    queue.IndirectDescriptorsEnabled = (_driverFeatures & VirtioFeatures.RingIndirectDesc) != 0;
                    queue.EventIdxEnabled = (_driverFeatures & VirtioFeatures.RingEventIdx) != 0;
                }
            }

            _interrupts = interrupts;
            _active = true;
            ProcessLocked();
        }
    }

    /// <inheritdoc/>
    public VirtqueueError SetQueueReady(int queueIndex, bool ready)
    {
        if (queueIndex is not (ReplyQueueIndex or RequestQueueIndex))
        {
            return VirtqueueError.QueueNotReady;
        }

        lock (_gate)
        {
            SplitQueue queue = GetQueue(queueIndex);
            if (!ready)
            {
                queue.Deactivate(); // from here on the device never touches the queue (IVirtioDevice remarks)
                return VirtqueueError.None;
            }

            if (!_active || _disposed)
            {
                return VirtqueueError.QueueNotReady;
            }

            VirtqueueError error = queue.TryActivate();
            if (error == VirtqueueError.None)
            {
                ProcessLocked();
            }

            return error;
        }
    }

    /// <summary>
    /// A driver kick. q1: serve new requests. q0: a new rx buffer may release a parked reply. Before activation
    /// (DRAFT.md B18), for out-of-range indices, and when nothing is new (DRAFT.md §10 test 20) it does nothing.
    /// </summary>
    /// <param name="queueIndex">The queue index as the driver wrote it.</param>
    public void NotifyQueue(int queueIndex)
    {
        if (queueIndex is not (ReplyQueueIndex or RequestQueueIndex))
        {
            return;
        }

        lock (_gate)
        {
            ProcessLocked();
        }
    }

    /// <inheritdoc/>
    /// <remarks>The heads are kept and served before any new avail entry as soon as the queue is
    /// ready (q1: the requests are executed again in order; REQUEST is idempotent. q0: the rx buffers are reused,
    /// oldest first). Heads the engine refuses as out of range are skipped; malformed q1 chains are completed with
    /// used length 0.</remarks>
    public void ResubmitInflight(int queueIndex, ReadOnlySpan<ushort> headIndices)
    {
        lock (_gate)
        {
            Queue<ushort>? pending = queueIndex switch
            {
                ReplyQueueIndex => _replyInflight,
                RequestQueueIndex => _requestResubmit,
                _ => null,
            };
            if (pending is null)
            {
                return;
            }

            foreach (ushort head in headIndices)
            {
                pending.Enqueue(head);
            }

            ProcessLocked();
        }
    }

    /// <inheritdoc/>
    /// <remarks>Deactivates the queue and forgets what the device holds for it without completing anything: for q1 the
    /// parked replies and pending resubmissions, for q0 the resubmitted rx buffers. Line state is kept. The queue's own
    /// configuration and indices are left to the transport (<see cref="SplitQueue.Reset"/>,
    /// <see cref="SplitQueue.TrySetState(SplitQueueState)"/>).</remarks>
    public void ResetQueue(int queueIndex)
    {
        lock (_gate)
        {
            if (queueIndex == RequestQueueIndex)
            {
                _requestQueue.Deactivate();
                _requestQueue.DiscardInFlight(); // re-offered heads must not be skipped as still in flight
                _parked.Clear(); // their q1 heads are gone
                _requestResubmit.Clear();
            }
            else if (queueIndex == ReplyQueueIndex)
            {
                _replyQueue.Deactivate();
                _replyQueue.DiscardInFlight();
                _replyInflight.Clear();
                _hostLevelAwaitingRxPost = false;
            }
        }
    }

    /// <summary>
    /// Device reset (status 0; DRAFT.md §7): both queues return to unconfigured (indices restart at 0, so the q1 budget
    /// is full again), parked replies are forgotten, every line returns to input with output latch low, features and
    /// DEVICE_NEEDS_RESET are cleared.
    /// </summary>
    public void Reset()
    {
        lock (_gate)
        {
            _active = false;
            _needsReset = false;
            _driverFeatures = 0;
            _interrupts = null;
            _parked.Clear();
            _replyInflight.Clear();
            _requestResubmit.Clear();
            _replyQueue.Reset();
            _requestQueue.Reset();
            _completedRequests = 0;
            _hostLevelMessages = 0;
            _hostLevelAwaitingRxPost = false;
            _loggedGuestErrors = 0;
            ResetLinesLocked();
        }
    }

    /// <summary>Detaches from the backend and disposes it when the device created it.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _active = false;
        }

        if (_sink is not null)
        {
            _backend.Attach(null);
        }

        if (_ownsBackend)
        {
            _backend.Dispose();
        }
    }

    private static IReadOnlyList<string?> NamesFromBackend(GpioLineBackend backend, int lineCount)
    {
        var names = new List<string?>(lineCount);
        int lastNamed = -1;
        for (int i = 0; i < lineCount; i++)
        {
            string name = backend.GetLineName(i) ?? string.Empty;
            names.Add(name);
            if (name.Length != 0)
            {
                lastNamed = i;
            }
        }

        names.RemoveRange(lastNamed + 1, names.Count - (lastNamed + 1)); // trailing unnamed lines need no entry
        return names;
    }

    private void ResetLinesLocked()
    {
        for (int i = 0; i < _isOutput.Length; i++)
        {
            _isOutput[i] = false;
            try
            {
                _backend.SetDirection(i, GpioDirection.Input, LineValue.Low);
                _backend.Write(i, LineValue.Low);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                DraftGpioLog.BackendFailed(_logger, ex, i);
            }
        }
    }

    /// <summary>Serves parked replies and new requests until one of them needs a q0 buffer that is not there.</summary>
    private void ProcessLocked()
    {
        if (!_active || _needsReset || _disposed || _interrupts is null)
        {
            return;
        }

        Span<byte> request = _requestScratch; // a heap scratch: the chain reader is a ref struct of wider scope than a stackalloc
        while (true)
        {
            if (_parked.Count > 0)
            {
                if (!_requestQueue.IsReady)
                {
                    return; // the q1 entry cannot be completed now; keep the reply parked
                }

                ParkedReply next = _parked.Peek();
                if (!TryWriteToReplyQueue(next.Reply))
                {
                    return; // no q0 buffer yet (parked), or the device broke
                }

                _parked.Dequeue();

                // DRAFT.md §5 step 5: the q0 used entry is published (release store) before the q1 entry.
                VirtqueueError error = _requestQueue.AddUsed(next.RequestHead, 0);
                if (error != VirtqueueError.None)
                {
                    FailLocked("q1 completion failed: " + error);
                    return;
                }

                _completedRequests++;

                // DRAFT.md §5 step 6, §3.5: always notify q1 (its used_event is never maintained); never q0.
                _interrupts.NotifyUsedBuffers(RequestQueueIndex);
                DraftGpioMetrics.Notification();
                continue;
            }

            if (!_requestQueue.IsReady)
            {
                return;
            }

            if (_requestResubmit.Count > 0)
            {
                // Inflight requests of a previous back-end go first, in their original order.
                ushort head = _requestResubmit.Dequeue();
                if (_requestQueue.TryReadChain(head, out DescriptorChain resubmitted, out VirtqueueError readError))
                {
                    request.Clear();
                    int count = resubmitted.CreateReader().Read(request);
                    _parked.Enqueue(new ParkedReply(head, Execute(request, count)));
                }
                else if (readError is VirtqueueError.QueueNotReady or VirtqueueError.QueueBroken)
                {
                    FailLocked("q1 resubmission: " + readError);
                    return;
                }
                else if (readError != VirtqueueError.InvalidHeadIndex)
                {
                    _requestQueue.AddUsed(head, 0); // malformed: completed empty, like the engine does for new chains
                }

                continue;
            }

            if (!_requestQueue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError popError))
            {
                if (popError is not (VirtqueueError.None or VirtqueueError.QueueNotReady))
                {
                    FailLocked("q1: " + popError);
                }

                return;
            }

            // DRAFT.md §5 step 1: read the 8-byte request once into local storage; never write to it.
            request.Clear();
            int read = chain.CreateReader().Read(request);
            _parked.Enqueue(new ParkedReply(chain.HeadIndex, Execute(request, read)));
        }
    }

    /// <summary>DRAFT.md §5 steps 3–4: the oldest q0 buffer gets exactly 8 bytes and used len 8; q0 is not notified.</summary>
    private bool TryWriteToReplyQueue(in DraftGpioMessage message)
    {
        if (!_replyQueue.IsReady)
        {
            return false;
        }

        DescriptorChain chain;
        if (_replyInflight.Count > 0)
        {
            ushort head = _replyInflight.Dequeue();
            if (!_replyQueue.TryReadChain(head, out chain, out VirtqueueError readError))
            {
                FailLocked("q0 resubmitted buffer " + head + ": " + readError);
                return false;
            }
        }
        else
        {
            long invalidBefore = _replyQueue.InvalidChainCount;
            bool popped = _replyQueue.TryPopAvailable(out chain, out VirtqueueError popError);
            if (_replyQueue.InvalidChainCount != invalidBefore)
            {
                // The engine completed a malformed q0 chain with used len 0; the driver would take it as an empty
                // reply ("RX received no data") and hang a request, so stop here (DRAFT.md §10 test 17).
                FailLocked("malformed q0 buffer: " + _replyQueue.LastChainError);
                return false;
            }

            if (!popped)
            {
                if (popError is not (VirtqueueError.None or VirtqueueError.QueueNotReady))
                {
                    FailLocked("q0: " + popError);
                }

                return false;
            }
        }

        if (chain.WritableLength < DraftGpioMessage.Size)
        {
            FailLocked("q0 buffer " + chain.HeadIndex + " has " + chain.WritableLength + " writable bytes; 8 are needed");
            return false;
        }

        Span<byte> bytes = _replyScratch;
        DraftGpioCodec.TryWrite(bytes, message, out _);
        DescriptorChainWriter writer = chain.CreateWriter();
        if (!writer.TryWriteExactly(bytes))
        {
            FailLocked("q0 buffer " + chain.HeadIndex + " write failed: " + writer.LastError);
            return false;
        }

        VirtqueueError error = _replyQueue.AddUsed(chain.HeadIndex, DraftGpioMessage.Size);
        if (error != VirtqueueError.None)
        {
            FailLocked("q0 completion failed: " + error);
            return false;
        }

        return true;
    }

    /// <summary>Computes the reply to one request (DRAFT.md §4.2). The device's line model is authoritative.</summary>
    private DraftGpioMessage Execute(ReadOnlySpan<byte> request, int bytesRead)
    {
        ushort rawType = BinaryPrimitives.ReadUInt16LittleEndian(request);
        ushort pin = BinaryPrimitives.ReadUInt16LittleEndian(request.Slice(2));
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(request.Slice(4));
        int result;
        if (bytesRead < DraftGpioMessage.Size)
        {
            result = -EINVAL; // short request (the driver always sends 8 bytes)
        }
        else if (rawType is < (ushort)DraftGpioMessageType.Request or > (ushort)DraftGpioMessageType.SetValue)
        {
            result = -EOPNOTSUPP; // DRAFT.md §10 test 14
        }
        else if (pin >= _isOutput.Length)
        {
            result = -EINVAL; // DRAFT.md §10 test 13
        }
        else
        {
            result = ExecuteOnLine((DraftGpioMessageType)rawType, pin, value);
        }

        DraftGpioMetrics.Request(rawType, result < 0);
        if (result < 0 && _loggedGuestErrors < MaxLoggedGuestErrors)
        {
            _loggedGuestErrors++; // rate limit: guest-triggered
            DraftGpioLog.RequestFailed(_logger, rawType, pin, unchecked((int)value), -result);
        }

        return new DraftGpioMessage(ReplyType(rawType), pin, result);
    }

    private int ExecuteOnLine(DraftGpioMessageType type, int pin, uint value)
    {
        try
        {
            switch (type)
            {
                case DraftGpioMessageType.Request:
                    return 0; // idempotent; there is no release message (DRAFT.md §0 rule 10)

                case DraftGpioMessageType.DirectionInput:
                    _backend.SetDirection(pin, GpioDirection.Input, LineValue.Low);
                    _isOutput[pin] = false;
                    return 0;

                case DraftGpioMessageType.DirectionOutput:
                    if (value > 1)
                    {
                        return -EINVAL;
                    }

                    _backend.SetDirection(pin, GpioDirection.Output, value == 1);
                    _isOutput[pin] = true;
                    return 0;

                case DraftGpioMessageType.GetDirection:
                    return _isOutput[pin] ? 0 : 1; // 1 = input, 0 = output (the reverse of the standard)

                case DraftGpioMessageType.GetValue:
                    return _backend.Read(pin).IsHigh ? 1 : 0;

                case DraftGpioMessageType.SetValue:
                    if (value > 1)
                    {
                        return -EINVAL;
                    }

                    if (!_isOutput[pin] && !_allowSetValueOnInput)
                    {
                        return -EPERM; // "outputs only" (DRAFT.md §10 test 12)
                    }

                    _backend.Write(pin, value == 1);
                    return 0; // exactly 0 on success (DRAFT.md B21)

                default:
                    return -EOPNOTSUPP;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // STYLE.md §C "host backend failure": an error reply, never a crash.
            DraftGpioLog.BackendFailed(_logger, ex, pin);
            return -EIO;
        }
    }

    /// <summary>
    /// Request type | reply mask, unless the driver would misread it: a stripped type ≥ 64 indexes past its bitmap (B12)
    /// and a raw 0x0011 reads as HOST_LEVEL; those get the bare mask (stripped type 0, which no waiter uses).
    /// </summary>
    private ushort ReplyType(ushort requestType)
    {
        ushort type = (ushort)(requestType | _replyMask);
        int stripped = type & 0x0FFF;
        return stripped >= 64 || type == HostLevelType ? _replyMask : type;
    }

    private void FailLocked(string reason)
    {
        if (_needsReset)
        {
            return;
        }

        _needsReset = true;
        DraftGpioLog.NeedsReset(_logger, reason);

        // VIRTIO 1.3 §2.1.2 "Device Requirements: Device Status Field": set DEVICE_NEEDS_RESET and notify the driver.
        _interrupts?.NotifyConfigChange();
    }

    /// <summary>DRAFT.md §6: an opt-in HOST_LEVEL for an input change, only when it is safe for the driver.</summary>
    private void OnLineLevelChanged(int lineNumber, LineValue level)
    {
        lock (_gate)
        {
            if (!_active || _needsReset || _disposed || _interrupts is null
                || unchecked((uint)lineNumber) >= (uint)_isOutput.Length || lineNumber >= DraftGpioConfig.MaxLineCount
                || _isOutput[lineNumber]
                || _completedRequests == 0 // never before the first completed request
                || _parked.Count > 0 || _requestQueue.HasAvailable() // never while a request is in flight
                || !_replyQueue.IsReady || !_requestQueue.IsReady)
            {
                return;
            }

            // One at a time: nothing more until the driver re-posted an rx buffer after the previous HOST_LEVEL.
            if (!TryLoadReplyAvailIndex(out ushort availIndex)
                || (_hostLevelAwaitingRxPost && availIndex == _hostLevelAvailMark)
                || !_replyQueue.HasAvailable())
            {
                return;
            }

            var message = new DraftGpioMessage(HostLevelType, (ushort)lineNumber, level.IsHigh ? 1 : 0);
            if (!TryWriteToReplyQueue(message))
            {
                return;
            }

            _hostLevelMessages++;
            _hostLevelAwaitingRxPost = true;
            _hostLevelAvailMark = availIndex;
            DraftGpioLog.HostLevelSent(_logger, lineNumber, message.Value);

            // A q1 notification without a q1 used entry (DRAFT.md §6 "What works").
            _interrupts.NotifyUsedBuffers(RequestQueueIndex);
            DraftGpioMetrics.HostLevel();
            DraftGpioMetrics.Notification();
        }
    }

    private bool TryLoadReplyAvailIndex(out ushort availIndex)
    {
        availIndex = 0;
        IGuestMemory? memory = _replyQueue.Memory;
        return memory is not null
            && _replyQueue.AvailRingAddress.TryAdd(2, out GuestAddress idxAddress)
            && memory.TryLoadAcquireUInt16(idxAddress, out availIndex) == GuestMemoryError.None;
    }

    private readonly struct ParkedReply
    {
        public ParkedReply(ushort requestHead, DraftGpioMessage reply)
        {
            RequestHead = requestHead;
            Reply = reply;
        }

        public ushort RequestHead { get; }

        public DraftGpioMessage Reply { get; }
    }

    private sealed class HostLevelSink : IGpioLineEventSink
    {
        private readonly DraftVirtioGpioDevice _device;

        public HostLevelSink(DraftVirtioGpioDevice device) => _device = device;

        public void OnLineLevelChanged(int lineNumber, LineValue level, DateTimeOffset timestamp) => _device.OnLineLevelChanged(lineNumber, level);
    }
}
