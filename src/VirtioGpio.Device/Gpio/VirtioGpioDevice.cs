// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VirtioGpio.Device.Internal;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Gpio;

/// <summary>
/// The standard virtio-gpio device (VIRTIO 1.3 §5.18 "GPIO Device", device ID 41): requestq, optional eventq, the
/// 8-byte configuration space and the line state machine (<see cref="GpioLineBank"/>) over a
/// <see cref="GpioLineBackend"/>. Serve it with any transport (virtio-mmio, virtio-pci, vhost-user).
/// </summary>
/// <remarks>
/// <para><b>Threading.</b> Every member may be called from any thread; one internal lock serialises queue work,
/// line state and host line events (which the backend delivers from any thread). Host-facing events
/// (<see cref="InterruptDelivered"/>, <see cref="RequestProcessed"/>) are raised after the lock is released, in
/// order, one at a time.</para>
/// <para><b>Guest input.</b> Nothing the guest writes throws, allocates on the request path, or stalls a queue:
/// every popped chain is completed exactly once, with ERR / IRQ INVALID / used length 0 as STANDARD.md §4.4 and
/// §6.2 define; ring-level corruption sets <see cref="NeedsReset"/> and sends a configuration-change notification.
/// See docs/conformance.md.</para>
/// <para><b>Ordering.</b> The requestq is completed in avail order (D5; exact vhost-user reconnect rewind,
/// VHOST-USER.md §9). eventq pairs complete per line, out of order. A pair returned by SET_IRQ_TYPE(NONE) or
/// SET_DIRECTION(NONE) is published (and notified) before the request's reply (D12, STANDARD.md §6.1).</para>
/// <para><b>Suspension.</b> After <see cref="SetQueueReady(int, bool)"/>(<c>false</c>) returns the device does not
/// touch that queue: edges latch, levels are re-evaluated, and INVALID returns that became due are written when the
/// queue is ready again (VHOST-USER.md §6.2).</para>
/// </remarks>
public sealed partial class VirtioGpioDevice : IVirtioDevice, IDisposable, IHeldPairCompleter
{
    /// <summary>The virtio device ID of the standard GPIO device (41).</summary>
    public const uint GpioDeviceId = 41;

    /// <summary>Index of the requestq.</summary>
    public const int RequestQueueIndex = 0;

    /// <summary>Index of the eventq (exists when <c>VIRTIO_GPIO_F_IRQ</c> is offered; used only when negotiated).</summary>
    public const int EventQueueIndex = 1;

    /// <summary>Size of <c>struct virtio_gpio_config</c> in bytes.</summary>
    public const int ConfigSpaceSize = 8;

#if NET9_0_OR_GREATER
    private readonly Lock _gate = new();
#else
    private readonly object _gate = new();
#endif
    private readonly SplitQueue[] _queues;
    private readonly GpioLineBank _bank;
    private readonly GpioLineBackend _backend;
    private readonly bool _ownsBackend;
    private readonly GpioLineNames _names;
    private readonly uint _namesSize;
    private readonly byte[] _config = new byte[ConfigSpaceSize];
    private readonly ulong _deviceFeatures;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly LogRateLimiter _logLimiter;
    private readonly DeviceMetrics _metrics;
    private readonly OrderedEventQueue<GpioInterruptEvent> _interruptEvents = new();
    private readonly OrderedEventQueue<GpioRequestEvent> _requestEvents = new();
    private readonly Action<GpioInterruptEvent> _deliverInterrupt;
    private readonly Action<GpioRequestEvent> _deliverRequest;
    private readonly Action<Exception> _onHandlerError;
    private readonly Queue<KeyValuePair<int, LineValue>> _deferredLevels = new();
    private readonly List<ushort>[] _pendingResubmit;

    private ulong _driverFeatures;
    private bool _irqNegotiated;
    private volatile bool _active;
    private volatile bool _needsReset;
    private bool _disposed;
    private bool _busy;
    private bool _inEventDrain;
    private IGuestMemory? _memory;
    private IVirtioInterruptSink? _interrupts;

    /// <summary>Creates a device.</summary>
    /// <param name="options">Configuration; <see langword="null"/> is not allowed (at least a line count or backend is needed).</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">No line count can be determined, it is outside 1..65535, or a queue size is not a power of two in 1..32768.</exception>
    /// <exception cref="ArgumentException">The line count, names and backend disagree.</exception>
    /// <exception cref="InvalidOperationException">The backend already serves another device.</exception>
    public VirtioGpioDevice(VirtioGpioDeviceOptions options)
    {
        ThrowHelper.ThrowIfNull(options);
        _time = options.TimeProvider ?? TimeProvider.System;
        _logger = (ILogger?)options.LoggerFactory?.CreateLogger("VirtioGpio.Device.Gpio.VirtioGpioDevice") ?? NullLogger.Instance;
        _logLimiter = new LogRateLimiter(_time, TimeSpan.FromSeconds(1), 20);
        _metrics = new DeviceMetrics(options.MeterFactory, "standard");

        (_backend, _ownsBackend, _names) = ResolveLines(options, _time);
        _namesSize = options.ExposeLineNames && _names.HasAnyName ? _names.BlockSize : 0;

        // VIRTIO 1.3 §5.18.4 "Device configuration layout" / STANDARD.md §3: le16 ngpio, u8 padding[2] = 0,
        // le32 gpio_names_size (D2, D3). Constant after construction: the generation never changes.
        BinaryPrimitives.WriteUInt16LittleEndian(_config, (ushort)_names.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(4), _namesSize);

        // STANDARD.md §2: VERSION_1 always; F_IRQ, INDIRECT_DESC, EVENT_IDX switchable; never IN_ORDER or PACKED.
        ulong features = VirtioFeatures.Version1;
        if (options.OfferInterrupts)
        {
            features |= GpioFeatures.Irq;
        }

        if (options.OfferIndirectDescriptors)
        {
            features |= VirtioFeatures.RingIndirectDesc;
        }

        if (options.OfferEventIndex)
        {
            features |= VirtioFeatures.RingEventIdx;
        }

        _deviceFeatures = features;

        // STANDARD.md §3: the eventq only carries traffic once F_IRQ is negotiated, but the device
        // always has both queues. QEMU's vhost-user-gpio sets up two virtqueues whatever the features
        // are (VHOST-USER.md §12.1), and aborts if the back-end reports one; a driver that never
        // negotiated F_IRQ simply never configures queue 1, and kicks on it are ignored (R5).
        const int queueCount = 2;
        _queues = new SplitQueue[queueCount];
        _pendingResubmit = new List<ushort>[queueCount];
        for (int i = 0; i < queueCount; i++)
        {
            int max = i == RequestQueueIndex ? options.RequestQueueMaxSize : options.EventQueueMaxSize;
            var queue = new SplitQueue(max);
            int index = i;
            queue.InvalidChainCallback = (head, error) => OnInvalidChain(index, head, error);
            _queues[i] = queue;
            _pendingResubmit[i] = new List<ushort>();
        }

        _deliverInterrupt = e => InterruptDelivered?.Invoke(this, e);
        _deliverRequest = e => RequestProcessed?.Invoke(this, e);
        _onHandlerError = ex => DeviceLog.HandlerFailed(_logger, ex);

        _bank = new GpioLineBank(
            _backend,
            this,
            _time,
            options.StrictUnarmedEventPairs,
            options.StrictInvalidReturnBurst,
            options.StrictInvalidReturnInterval,
            options.ImplicitIrqTypeChange,
            options.ReadUnconfiguredLines);

        try
        {
            _backend.Attach(new LineEventSink(this));
        }
        catch
        {
            if (_ownsBackend)
            {
                _backend.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// An eventq pair was returned to the guest: VALID (an interrupt) or INVALID. Raised after the device lock is
    /// released, in order, on the thread that caused it or one already delivering. Handlers must not block for long;
    /// they may call the device and the backend.
    /// </summary>
    public event EventHandler<GpioInterruptEvent>? InterruptDelivered;

    /// <summary>A requestq message was answered (optional; costs a little per request while subscribed). Same
    /// threading as <see cref="InterruptDelivered"/>.</summary>
    public event EventHandler<GpioRequestEvent>? RequestProcessed;

    /// <inheritdoc/>
    public uint DeviceId => GpioDeviceId;

    /// <inheritdoc/>
    public ulong DeviceFeatures => _deviceFeatures;

    /// <inheritdoc/>
    public ulong DriverFeatures => Volatile.Read(ref _driverFeatures);

    /// <inheritdoc/>
    public int ConfigSize => ConfigSpaceSize;

    /// <inheritdoc/>
    /// <remarks>Always 0: the configuration never changes after construction (STANDARD.md §3).</remarks>
    public uint ConfigGeneration => 0;

    /// <inheritdoc/>
    public int QueueCount => _queues.Length;

    /// <inheritdoc/>
    public bool IsActive => _active;

    /// <inheritdoc/>
    public bool NeedsReset => _needsReset;

    /// <summary>Number of lines (<c>ngpio</c>).</summary>
    public int LineCount => _names.Count;

    /// <summary>The line names (all empty when unnamed).</summary>
    public GpioLineNames LineNames => _names;

    /// <summary><c>gpio_names_size</c>: the names block size, or 0 when GET_LINE_NAMES is not offered.</summary>
    public uint LineNamesSize => _namesSize;

    /// <summary>The host side of the lines (a <see cref="SimulatedGpioLineBackend"/> unless one was configured).</summary>
    public GpioLineBackend Backend => _backend;

    /// <summary>A snapshot of one line as the guest configured it.</summary>
    /// <param name="lineNumber">0 .. <see cref="LineCount"/> - 1.</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineNumber"/> is out of range.</exception>
    public GpioLineState GetLineState(int lineNumber)
    {
        if ((uint)lineNumber >= (uint)_names.Count)
        {
            ThrowHelper.ThrowArgumentOutOfRangeException(nameof(lineNumber), lineNumber, "No such line.");
        }

        lock (_gate)
        {
            return _bank.GetState(lineNumber);
        }
    }

    /// <inheritdoc/>
    /// <remarks>While the device is active (between <see cref="Activate"/> and <see cref="Reset"/>) only the current
    /// features are accepted: a different set is refused, so a transport can tell a driver re-initialisation.</remarks>
    public bool TryAcceptFeatures(ulong driverFeatures)
    {
        // VIRTIO 1.3 §2.2.1 "Driver Requirements: Feature Bits": the driver MUST NOT accept a feature the device
        // did not offer → refuse FEATURES_OK and change nothing.
        if ((driverFeatures & ~_deviceFeatures) != 0)
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                DeviceLog.FeaturesRefused(_logger, driverFeatures, _deviceFeatures);
            }

            return false;
        }

        lock (_gate)
        {
            // Features are fixed while the device runs (VIRTIO 1.3 §3.1.1: negotiation precedes DRIVER_OK).
            if (_active && driverFeatures != _driverFeatures)
            {
                return false;
            }

            Volatile.Write(ref _driverFeatures, driverFeatures);
            _irqNegotiated = (driverFeatures & GpioFeatures.Irq) != 0;
            return true;
        }
    }

    /// <inheritdoc/>
    public void ReadConfig(uint offset, Span<byte> destination)
    {
        // STANDARD.md §3: any width at any offset (Linux reads byte by byte); beyond byte 7 reads 0 (VDG-5 / N5).
        for (int i = 0; i < destination.Length; i++)
        {
            ulong at = (ulong)offset + (ulong)i;
            destination[i] = at < ConfigSpaceSize ? _config[(int)at] : (byte)0;
        }
    }

    /// <inheritdoc/>
    /// <remarks>The configuration is read-only for the driver: writes are ignored.</remarks>
    public void WriteConfig(uint offset, ReadOnlySpan<byte> source)
    {
    }

    /// <inheritdoc/>
    public SplitQueue GetQueue(int queueIndex)
    {
        if ((uint)queueIndex >= (uint)_queues.Length)
        {
            ThrowHelper.ThrowArgumentOutOfRangeException(nameof(queueIndex), queueIndex, "No such queue.");
        }

        return _queues[queueIndex];
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="memory"/> or <paramref name="interrupts"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">A queue is ready (deactivate queues before replacing memory).</exception>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public void Activate(IGuestMemory memory, IVirtioInterruptSink interrupts)
    {
        ThrowHelper.ThrowIfNull(memory);
        ThrowHelper.ThrowIfNull(interrupts);
        lock (_gate)
        {
            if (_disposed)
            {
                ThrowHelper.ThrowObjectDisposedException(nameof(VirtioGpioDevice));
            }

            foreach (SplitQueue queue in _queues)
            {
                if (queue.IsReady)
                {
                    ThrowHelper.ThrowInvalidOperationException("Activate was called while a queue is ready; deactivate the queues first.");
                }
            }

            ulong features = _driverFeatures;
            _memory = memory;
            _interrupts = interrupts;
            foreach (SplitQueue queue in _queues)
            {
                queue.Memory = memory;
                queue.IndirectDescriptorsEnabled = (features & VirtioFeatures.RingIndirectDesc) != 0;
                queue.EventIdxEnabled = (features & VirtioFeatures.RingEventIdx) != 0;
            }

            _active = true;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Enabling before <see cref="Activate"/>, or enabling the eventq without <c>VIRTIO_GPIO_F_IRQ</c>
    /// negotiated, returns <see cref="VirtqueueError.QueueNotReady"/> and changes nothing. Enabling resubmits inflight
    /// heads handed over earlier, re-evaluates held eventq pairs and processes the avail ring (a kick that arrived
    /// before is never lost; PEERS.md VDG-14).</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="queueIndex"/> is out of range.</exception>
    public VirtqueueError SetQueueReady(int queueIndex, bool ready)
    {
        SplitQueue queue = GetQueue(queueIndex);
        VirtqueueError result = VirtqueueError.None;
        lock (_gate)
        {
            if (!ready)
            {
                // VHOST-USER.md §6.2 / IVirtioDevice: after this returns the device never touches the queue.
                queue.Deactivate();
                return VirtqueueError.None;
            }

            if (!_active || _disposed || (queueIndex == EventQueueIndex && !_irqNegotiated))
            {
                return VirtqueueError.QueueNotReady;
            }

            result = queue.TryActivate();
            if (result == VirtqueueError.None)
            {
                BeginOperation();
                try
                {
                    ResubmitPendingLocked(queueIndex);
                    if (queueIndex == EventQueueIndex)
                    {
                        _bank.OnEventQueueResumed();
                    }

                    DrainLocked(queueIndex);
                }
                finally
                {
                    EndOperation();
                }
            }
        }

        DispatchEvents();
        return result;
    }

    /// <inheritdoc/>
    public void NotifyQueue(int queueIndex)
    {
        if ((uint)queueIndex >= (uint)_queues.Length)
        {
            return; // spurious / out of range: ignored (G5)
        }

        lock (_gate)
        {
            // Before DRIVER_OK nothing is processed; R5: a queue-1 kick without F_IRQ negotiated is ignored.
            if (!_active || _disposed || (queueIndex == EventQueueIndex && !_irqNegotiated))
            {
                return;
            }

            BeginOperation();
            try
            {
                DrainLocked(queueIndex);
            }
            finally
            {
                EndOperation();
            }
        }

        DispatchEvents();
    }

    /// <inheritdoc/>
    /// <remarks>When the queue is not ready yet the heads are kept and processed first when it becomes ready.
    /// Heads the engine refuses as out of range are skipped (they cannot be completed).</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="queueIndex"/> is out of range.</exception>
    public void ResubmitInflight(int queueIndex, ReadOnlySpan<ushort> headIndices)
    {
        SplitQueue queue = GetQueue(queueIndex);
        lock (_gate)
        {
            List<ushort> pending = _pendingResubmit[queueIndex];
            for (int i = 0; i < headIndices.Length; i++)
            {
                pending.Add(headIndices[i]);
            }

            if (!_active || _disposed || !queue.IsReady || (queueIndex == EventQueueIndex && !_irqNegotiated))
            {
                return;
            }

            BeginOperation();
            try
            {
                ResubmitPendingLocked(queueIndex);
                DrainLocked(queueIndex);
            }
            finally
            {
                EndOperation();
            }
        }

        DispatchEvents();
    }

    /// <inheritdoc/>
    /// <remarks>Deactivates the queue; for the eventq every held pair is forgotten without being completed (and
    /// <see cref="SplitQueue.DiscardInFlight"/> releases their heads), while IRQ types and latched edges are kept.
    /// The queue's own configuration and indices are left to the transport
    /// (<see cref="SplitQueue.Reset"/>, <see cref="SplitQueue.TrySetState(SplitQueueState)"/>).</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="queueIndex"/> is out of range.</exception>
    public void ResetQueue(int queueIndex)
    {
        SplitQueue queue = GetQueue(queueIndex);
        lock (_gate)
        {
            queue.Deactivate();
            _pendingResubmit[queueIndex].Clear();
            if (queueIndex == EventQueueIndex)
            {
                _bank.ForgetPairs();
            }

            // The held heads are dropped: let the engine take them again when the driver re-offers them.
            queue.DiscardInFlight();
        }
    }

    /// <inheritdoc/>
    /// <remarks>Lines return to their defaults (direction NONE, value low, IRQ NONE, no latch); held pairs are
    /// forgotten; negotiated features, memory and interrupt sink are dropped; queues are reset. Host input levels
    /// live in the backend and survive.</remarks>
    public void Reset()
    {
        lock (_gate)
        {
            BeginOperation();
            try
            {
                _active = false;
                foreach (SplitQueue queue in _queues)
                {
                    queue.Reset();
                }

                foreach (List<ushort> pending in _pendingResubmit)
                {
                    pending.Clear();
                }

                _bank.Reset();
                Volatile.Write(ref _driverFeatures, 0UL);
                _irqNegotiated = false;
                _needsReset = false;
                _memory = null;
                _interrupts = null;
            }
            finally
            {
                EndOperation();
            }
        }

        DispatchEvents();
    }

    /// <summary>Detaches from the backend (and disposes it when the device created it). The device processes nothing afterwards.</summary>
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
            foreach (SplitQueue queue in _queues)
            {
                queue.Deactivate();
            }
        }

        _backend.Attach(null);
        if (_ownsBackend)
        {
            _backend.Dispose();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"VirtioGpioDevice(ID 41, {LineCount} lines, {(_active ? "active" : "inactive")}{(_needsReset ? ", needs reset" : string.Empty)})";

    private static (GpioLineBackend Backend, bool Owns, GpioLineNames Names) ResolveLines(VirtioGpioDeviceOptions options, TimeProvider time)
    {
        int count = options.LineCount;
        GpioLineNames? names = options.LineNames;
        GpioLineBackend? backend = options.Backend;
        if (count < 0 || count > ushort.MaxValue)
        {
            ThrowHelper.ThrowArgumentOutOfRangeException(nameof(options), count, "LineCount must be 1..65535 (0 = derive from names or backend).");
        }

        int fromNames = names?.Count ?? 0;
        int fromBackend = backend?.LineCount ?? 0;
        int resolved = count != 0 ? count : fromNames != 0 ? fromNames : fromBackend;
        if (resolved < 1 || resolved > ushort.MaxValue)
        {
            ThrowHelper.ThrowArgumentOutOfRangeException(nameof(options), resolved, "A virtio-gpio device needs 1..65535 lines: set LineCount, LineNames or Backend (Linux fails probe when ngpio is 0).");
        }

        if ((names is not null && names.Count != resolved) || (backend is not null && backend.LineCount != resolved))
        {
            ThrowHelper.ThrowArgumentException("LineCount, LineNames.Count and Backend.LineCount must agree.", nameof(options));
        }

        if (backend is null)
        {
            names ??= GpioLineNames.CreateUnnamed(resolved);
            return (new SimulatedGpioLineBackend(names, time), true, names);
        }

        if (names is null)
        {
            var list = new string[resolved];
            for (int i = 0; i < resolved; i++)
            {
                list[i] = backend.GetLineName(i) ?? string.Empty;
            }

            names = new GpioLineNames(list);
        }

        return (backend, false, names);
    }

    private sealed class LineEventSink : IGpioLineEventSink
    {
        private readonly VirtioGpioDevice _device;

        public LineEventSink(VirtioGpioDevice device) => _device = device;

        public void OnLineLevelChanged(int lineNumber, LineValue level, DateTimeOffset timestamp) => _device.OnHostLevelChanged(lineNumber, level);
    }
}
