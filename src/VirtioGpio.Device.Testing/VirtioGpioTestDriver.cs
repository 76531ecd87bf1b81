// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Testing;

/// <summary>
/// A guest-side virtio-gpio client that drives any <see cref="IVirtioDevice"/> the way Linux's
/// <c>drivers/gpio/gpio-virtio.c</c> does (STANDARD.md §9): feature negotiation, config read with
/// 1-byte accesses, requestq (and eventq with VIRTIO_GPIO_F_IRQ), DRIVER_OK, then every message as
/// an 8-byte request plus a response buffer (2 bytes, or 1 + N for GET_LINE_NAMES), sent as one
/// INDIRECT descriptor to a 2-entry table when RING_INDIRECT_DESC was negotiated.
/// </summary>
/// <remarks>
/// <para>Thread-safe: several threads may submit and wait at once (Linux allows one request in
/// flight per line; this driver does not enforce that, so tests can go beyond it).</para>
/// <para>The request is encoded here from raw bytes (<c>le16 type; le16 gpio; le32 value</c>);
/// nothing depends on the device's own codec.</para>
/// </remarks>
/// <example>
/// <code>
/// var driver = new VirtioGpioTestDriver(device);
/// driver.Initialize();
/// GpioCompletion reply = driver.GetValue(3);
/// Assert.True(reply.IsOk);
/// driver.SetIrqType(3, 1);           // EDGE_RISING
/// driver.ArmIrq(3);
/// // … raise the line on the host side …
/// GpioIrqCompletion irq = driver.WaitForIrqCompletion();
/// Assert.True(irq.IsValid);
/// </code>
/// </example>
public sealed class VirtioGpioTestDriver
{
    /// <summary>VIRTIO_GPIO_F_IRQ (feature bit 0).</summary>
    public const ulong FeatureIrq = 1UL << 0;

    /// <summary>The virtio device ID of the standard GPIO device.</summary>
    public const uint StandardDeviceId = 41;

    private const ushort MsgGetLineNames = 0x0001;
    private const ushort MsgGetDirection = 0x0002;
    private const ushort MsgSetDirection = 0x0003;
    private const ushort MsgGetValue = 0x0004;
    private const ushort MsgSetValue = 0x0005;
    private const ushort MsgSetIrqType = 0x0006;

    private readonly object _sync = new();
    private readonly Dictionary<ushort, int> _armedIrqs = new();
    private readonly Queue<GpioIrqCompletion> _irqCompletions = new();
    private readonly List<DriverCompletion> _unexpected = new();
    private SimulatedVirtioDriver? _requestQueue;
    private SimulatedVirtioDriver? _eventQueue;

    /// <summary>Creates a driver for <paramref name="device"/>; call <see cref="Initialize"/> next.</summary>
    /// <param name="device">The device under test.</param>
    /// <param name="options">Settings (defaults behave like Linux).</param>
    public VirtioGpioTestDriver(IVirtioDevice device, VirtioGpioTestDriverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        Device = device;
        Options = options ?? new VirtioGpioTestDriverOptions();
    }

    /// <summary>The device under test.</summary>
    public IVirtioDevice Device { get; }

    /// <summary>The settings.</summary>
    public VirtioGpioTestDriverOptions Options { get; }

    /// <summary>Records the device's notifications (given to <see cref="IVirtioDevice.Activate"/>).</summary>
    public RecordingInterruptSink Interrupts { get; } = new();

    /// <summary>Guest memory (rings and buffers) after <see cref="Initialize"/>.</summary>
    public TestGuestMemory Memory { get; private set; } = null!;

    /// <summary>The memory the device was given: <see cref="TestGuestMemory.RegionMemory"/> of <see cref="Memory"/>, or the wrapper from <see cref="VirtioGpioTestDriverOptions.DeviceMemoryWrapper"/>.</summary>
    public IGuestMemory DeviceMemory { get; private set; } = null!;

    /// <summary>Whether <see cref="Initialize"/> completed.</summary>
    public bool IsInitialized { get; private set; }

    /// <summary>The features accepted with <see cref="IVirtioDevice.TryAcceptFeatures(ulong)"/>.</summary>
    public ulong NegotiatedFeatures { get; private set; }

    /// <summary>Whether VIRTIO_GPIO_F_IRQ was negotiated (the eventq exists).</summary>
    public bool IrqNegotiated => (NegotiatedFeatures & FeatureIrq) != 0;

    /// <summary>Whether VIRTIO_F_RING_INDIRECT_DESC was negotiated.</summary>
    public bool IndirectNegotiated => (NegotiatedFeatures & VirtioFeatures.RingIndirectDesc) != 0;

    /// <summary>Whether VIRTIO_F_RING_EVENT_IDX was negotiated.</summary>
    public bool EventIdxNegotiated => (NegotiatedFeatures & VirtioFeatures.RingEventIdx) != 0;

    /// <summary>The configuration read during <see cref="Initialize"/>.</summary>
    public GpioConfigSnapshot Config { get; private set; }

    /// <summary>The requestq (queue 0) driver, for raw ring access.</summary>
    public SimulatedVirtioDriver RequestQueue => _requestQueue ?? throw NotInitialized();

    /// <summary>The eventq (queue 1) driver, or <see langword="null"/> without VIRTIO_GPIO_F_IRQ.</summary>
    public SimulatedVirtioDriver? EventQueue => _eventQueue;

    /// <summary>Used elements whose id matched no outstanding message (a device bug), on either queue.</summary>
    public IReadOnlyList<DriverCompletion> UnexpectedCompletions
    {
        get
        {
            lock (_sync)
            {
                return _unexpected.ToArray();
            }
        }
    }

    /// <summary>Number of eventq pairs queued and not yet returned.</summary>
    public int ArmedIrqCount
    {
        get
        {
            lock (_sync)
            {
                int total = 0;
                foreach (int count in _armedIrqs.Values)
                {
                    total += count;
                }

                return total;
            }
        }
    }

    /// <summary>
    /// Brings the device up like Linux probe: negotiate features (FEATURES_OK), read the config,
    /// configure requestq and (with F_IRQ) eventq, <see cref="IVirtioDevice.Activate"/> (DRIVER_OK)
    /// with <see cref="Interrupts"/>, then enable the queues.
    /// </summary>
    /// <exception cref="InvalidOperationException">The device refused the features, a queue configuration or activation.</exception>
    public void Initialize()
    {
        lock (_sync)
        {
            if (IsInitialized)
            {
                throw new InvalidOperationException("Already initialized; call ResetDevice first.");
            }

            ulong features = Device.DeviceFeatures & Options.RequestedFeatures;
            if (!Device.TryAcceptFeatures(features))
            {
                throw new InvalidOperationException($"The device refused features 0x{features:x} (offered 0x{Device.DeviceFeatures:x}).");
            }

            NegotiatedFeatures = features;
            Config = ReadConfig();

            SplitQueue requestq = Device.GetQueue(0);
            SplitQueue? eventq = IrqNegotiated && Device.QueueCount > 1 ? Device.GetQueue(1) : null;
            SplitRingLayout requestLayout = SplitRingLayout.Compact(QueueSizeFor(requestq), default);
            SplitRingLayout? eventLayout = eventq is null
                ? null
                : SplitRingLayout.Compact(QueueSizeFor(eventq), new GuestAddress(SplitRingLayout.AlignUp(requestLayout.EndExclusive, 4096)));
            ulong bufferStart = SplitRingLayout.AlignUp(eventLayout?.EndExclusive ?? requestLayout.EndExclusive, 4096);
            ulong bufferSize = (ulong)Options.BufferAreaSize + Config.NamesSize + 4096;
            ulong total = bufferStart + bufferSize;
            if (total > (ulong)Array.MaxLength)
            {
                throw new InvalidOperationException($"The device's gpio_names_size {Config.NamesSize} needs more test memory than one array holds.");
            }

            Memory = new TestGuestMemory((int)total);
            DeviceMemory = Options.DeviceMemoryWrapper?.Invoke(Memory) ?? Memory.RegionMemory;
            var allocator = new GuestBufferAllocator(new GuestRange(bufferStart, bufferSize));
            _requestQueue = CreateQueueDriver(requestLayout, allocator);
            _requestQueue.ConfigureDeviceQueue(requestq, DeviceMemory, activate: false);
            if (eventq is not null)
            {
                _eventQueue = CreateQueueDriver(eventLayout!.Value, allocator);
                _eventQueue.ConfigureDeviceQueue(eventq, DeviceMemory, activate: false);
            }

            Device.Activate(DeviceMemory, Interrupts);
            VirtqueueError error = Device.SetQueueReady(0, true);
            if (error != VirtqueueError.None)
            {
                throw new InvalidOperationException($"The device refused to enable requestq: {error}.");
            }

            if (_eventQueue is not null)
            {
                error = Device.SetQueueReady(1, true);
                if (error != VirtqueueError.None)
                {
                    throw new InvalidOperationException($"The device refused to enable eventq: {error}.");
                }
            }

            IsInitialized = true;
        }
    }

    /// <summary>
    /// Linux's whole probe: <see cref="Initialize"/>, fail when <c>ngpio</c> is 0, GET_LINE_NAMES when
    /// <c>gpio_names_size</c> is not 0, then GET_DIRECTION for every line (what gpiolib does on chip registration).
    /// </summary>
    /// <returns>The completions in the order sent.</returns>
    /// <exception cref="InvalidOperationException"><c>ngpio</c> is 0 ("Number of GPIOs can't be zero").</exception>
    public IReadOnlyList<GpioCompletion> ProbeLikeLinux()
    {
        Initialize();
        if (Config.LineCount == 0)
        {
            throw new InvalidOperationException("Number of GPIOs can't be zero (Linux probe fails with -EINVAL).");
        }

        var replies = new List<GpioCompletion>();
        if (Config.NamesSize != 0)
        {
            replies.Add(GetLineNames());
        }

        for (int line = 0; line < Config.LineCount; line++)
        {
            replies.Add(GetDirection((ushort)line));
        }

        return replies;
    }

    /// <summary>Reads <c>virtio_gpio_config</c> the way Linux does: eight 1-byte reads inside a generation-counter retry loop.</summary>
    /// <returns>The configuration.</returns>
    public GpioConfigSnapshot ReadConfig()
    {
        Span<byte> config = stackalloc byte[8];
        for (int attempt = 0; ; attempt++)
        {
            uint before = Device.ConfigGeneration;
            for (int i = 0; i < config.Length; i++)
            {
                Device.ReadConfig((uint)i, config.Slice(i, 1));
            }

            if (Device.ConfigGeneration == before)
            {
                break;
            }

            if (attempt > 100)
            {
                throw new InvalidOperationException("The configuration generation never settled.");
            }
        }

        return new GpioConfigSnapshot(
            BinaryPrimitives.ReadUInt16LittleEndian(config),
            BinaryPrimitives.ReadUInt16LittleEndian(config.Slice(2)),
            BinaryPrimitives.ReadUInt32LittleEndian(config.Slice(4)));
    }

    /// <summary>Sends a message and waits for its completion.</summary>
    /// <param name="type">VIRTIO_GPIO_MSG_* code.</param>
    /// <param name="gpio">Line number.</param>
    /// <param name="value">Message-specific value.</param>
    /// <param name="responseSize">Response buffer size (2; 1 + N for GET_LINE_NAMES; other sizes for negative tests).</param>
    /// <returns>The completion.</returns>
    /// <exception cref="TimeoutException">No completion within <see cref="VirtioGpioTestDriverOptions.Timeout"/>.</exception>
    public GpioCompletion SendRequest(ushort type, ushort gpio, uint value, int responseSize = 2) =>
        WaitForCompletion(SubmitRequest(type, gpio, value, responseSize));

    /// <summary>Submits a message without waiting, so several can be in flight; collect it with <see cref="WaitForCompletion"/> or <see cref="TryGetCompletion"/>.</summary>
    /// <param name="type">VIRTIO_GPIO_MSG_* code.</param>
    /// <param name="gpio">Line number.</param>
    /// <param name="value">Message-specific value.</param>
    /// <param name="responseSize">Response buffer size.</param>
    /// <returns>The handle.</returns>
    public GpioRequestHandle SubmitRequest(ushort type, ushort gpio, uint value, int responseSize = 2)
    {
        byte[] request = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(request, type);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), gpio);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), value);
        var handle = new GpioRequestHandle(type, gpio, value, ExpectedLengthFor(type), request);
        return Submit(handle, [request], [responseSize], null);
    }

    /// <summary>Submits arbitrary readable bytes and writable buffers on the requestq (short requests, responses split 1 + 1, no response buffer, …).</summary>
    /// <param name="readable">Device-readable buffers in order.</param>
    /// <param name="writableLengths">Device-writable buffer sizes in order.</param>
    /// <param name="shape">Descriptor arrangement (default: as for normal messages).</param>
    /// <returns>The handle (its type/gpio/value are decoded from the first 8 readable bytes when present).</returns>
    public GpioRequestHandle SubmitRawRequest(ReadOnlySpan<ReadOnlyMemory<byte>> readable, ReadOnlySpan<int> writableLengths, ChainShape? shape = null)
    {
        var all = new List<byte>();
        foreach (ReadOnlyMemory<byte> part in readable)
        {
            all.AddRange(part.ToArray());
        }

        byte[] bytes = all.ToArray();
        ushort type = bytes.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes) : (ushort)0;
        ushort gpio = bytes.Length >= 4 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2)) : (ushort)0;
        uint value = bytes.Length >= 8 ? BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)) : 0;
        var handle = new GpioRequestHandle(type, gpio, value, ExpectedLengthFor(type), bytes);
        return Submit(handle, readable, writableLengths, shape);
    }

    /// <summary>Waits for a submitted message (polling the used ring and waiting on notifications in short slices).</summary>
    /// <param name="handle">From <see cref="SubmitRequest"/>.</param>
    /// <param name="timeout">Overrides <see cref="VirtioGpioTestDriverOptions.Timeout"/>.</param>
    /// <returns>The completion.</returns>
    /// <exception cref="TimeoutException">No completion in time.</exception>
    public GpioCompletion WaitForCompletion(GpioRequestHandle handle, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(handle);
        TimeSpan limit = timeout ?? Options.Timeout;
        long deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        while (true)
        {
            long version;
            lock (_sync)
            {
                DrainRequestQueue();
                if (handle.Completion is GpioCompletion completion)
                {
                    return completion;
                }

                version = Interrupts.Version;
            }

            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0)
            {
                throw new TimeoutException($"GPIO request ({handle}) not completed within {limit.TotalMilliseconds} ms: avail.idx {RequestQueue.AvailIndex}, used.idx {RequestQueue.ReadUsedIndex()}, device needs reset: {Device.NeedsReset}.");
            }

            Interrupts.WaitForNotification(version, TimeSpan.FromMilliseconds(Math.Min(remaining, 10)));
        }
    }

    /// <summary>Checks the used ring once without waiting.</summary>
    /// <param name="handle">From <see cref="SubmitRequest"/>.</param>
    /// <param name="completion">The completion when done.</param>
    /// <returns>Whether the message completed.</returns>
    public bool TryGetCompletion(GpioRequestHandle handle, out GpioCompletion completion)
    {
        ArgumentNullException.ThrowIfNull(handle);
        lock (_sync)
        {
            DrainRequestQueue();
            completion = handle.Completion!;
            return completion is not null;
        }
    }

    /// <summary>GET_LINE_NAMES with a <c>1 + gpio_names_size</c> response buffer.</summary>
    /// <returns>The completion (<see cref="GpioCompletion.Payload"/> is the names block).</returns>
    public GpioCompletion GetLineNames() => SendRequest(MsgGetLineNames, 0, 0, 1 + (int)Config.NamesSize);

    /// <summary>GET_DIRECTION.</summary>
    /// <param name="line">Line number.</param>
    /// <returns>The completion (value 0 none, 1 out, 2 in).</returns>
    public GpioCompletion GetDirection(ushort line) => SendRequest(MsgGetDirection, line, 0);

    /// <summary>SET_DIRECTION.</summary>
    /// <param name="line">Line number.</param>
    /// <param name="direction">0 none, 1 out, 2 in (other values for negative tests).</param>
    /// <returns>The completion.</returns>
    public GpioCompletion SetDirection(ushort line, uint direction) => SendRequest(MsgSetDirection, line, direction);

    /// <summary>GET_VALUE.</summary>
    /// <param name="line">Line number.</param>
    /// <returns>The completion (value 0 low, 1 high).</returns>
    public GpioCompletion GetValue(ushort line) => SendRequest(MsgGetValue, line, 0);

    /// <summary>SET_VALUE.</summary>
    /// <param name="line">Line number.</param>
    /// <param name="value">0 low, 1 high.</param>
    /// <returns>The completion.</returns>
    public GpioCompletion SetValue(ushort line, uint value) => SendRequest(MsgSetValue, line, value);

    /// <summary>SET_IRQ_TYPE (Linux's VIRTIO_GPIO_MSG_IRQ_TYPE).</summary>
    /// <param name="line">Line number.</param>
    /// <param name="irqType">0 none, 1 rising, 2 falling, 3 both, 4 level high, 8 level low.</param>
    /// <returns>The completion.</returns>
    public GpioCompletion SetIrqType(ushort line, uint irqType) => SendRequest(MsgSetIrqType, line, irqType);

    /// <summary>Linux <c>direction_output(v)</c>: SET_VALUE(v) then SET_DIRECTION(OUT).</summary>
    /// <param name="line">Line number.</param>
    /// <param name="value">0 or 1.</param>
    /// <returns>The SET_DIRECTION completion (the SET_VALUE one must have been OK).</returns>
    /// <exception cref="InvalidOperationException">SET_VALUE failed.</exception>
    public GpioCompletion DirectionOutput(ushort line, uint value)
    {
        GpioCompletion set = SetValue(line, value);
        if (!set.IsOk)
        {
            throw new InvalidOperationException($"SET_VALUE failed: {set}.");
        }

        return SetDirection(line, 1);
    }

    /// <summary>Queues an eventq pair for <paramref name="line"/> (unmask): a 2-byte <c>irq_request</c> and a 1-byte <c>irq_response</c>, indirect when negotiated, then kicks queue 1 if the device asked.</summary>
    /// <param name="line">Line number (duplicates are allowed, to test R12).</param>
    /// <exception cref="InvalidOperationException">VIRTIO_GPIO_F_IRQ was not negotiated.</exception>
    public void ArmIrq(ushort line)
    {
        byte[] request = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(request, line);
        SubmitRawEventBuffers(line, [request], [1], null);
    }

    /// <summary>Queues arbitrary buffers on the eventq (short requests, no response buffer, …).</summary>
    /// <param name="line">The line the driver associates with the pair (reported back in <see cref="GpioIrqCompletion.Line"/>).</param>
    /// <param name="readable">Device-readable buffers.</param>
    /// <param name="writableLengths">Device-writable buffer sizes.</param>
    /// <param name="shape">Descriptor arrangement (default: as for normal pairs).</param>
    public void SubmitRawEventBuffers(ushort line, ReadOnlySpan<ReadOnlyMemory<byte>> readable, ReadOnlySpan<int> writableLengths, ChainShape? shape)
    {
        bool kick;
        lock (_sync)
        {
            SimulatedVirtioDriver eventq = _eventQueue ?? throw new InvalidOperationException("The eventq exists only when VIRTIO_GPIO_F_IRQ was negotiated.");
            SubmittedChain chain = eventq.AddChain(readable, writableLengths, shape ?? DefaultShape);
            chain.State = line;
            _armedIrqs[line] = (_armedIrqs.TryGetValue(line, out int count) ? count : 0) + 1;
            kick = eventq.Publish() || !Options.KickOnlyWhenNeeded;
        }

        if (kick)
        {
            Device.NotifyQueue(1);
        }
    }

    /// <summary>Whether at least one pair for <paramref name="line"/> is queued and not returned.</summary>
    /// <param name="line">Line number.</param>
    /// <returns>Whether the line is armed (unmasked).</returns>
    public bool IsIrqArmed(ushort line)
    {
        lock (_sync)
        {
            DrainEventQueue();
            return _armedIrqs.ContainsKey(line);
        }
    }

    /// <summary>Takes the next returned eventq pair, if any (pairs come back in the order the device fires lines, not the order they were queued).</summary>
    /// <param name="completion">The returned pair.</param>
    /// <returns><see langword="false"/> when none is waiting.</returns>
    public bool TryTakeIrqCompletion(out GpioIrqCompletion completion)
    {
        lock (_sync)
        {
            DrainEventQueue();
            return _irqCompletions.TryDequeue(out completion!);
        }
    }

    /// <summary>Waits for the next returned eventq pair.</summary>
    /// <param name="timeout">Overrides <see cref="VirtioGpioTestDriverOptions.Timeout"/>.</param>
    /// <returns>The pair.</returns>
    /// <exception cref="TimeoutException">None within the timeout.</exception>
    public GpioIrqCompletion WaitForIrqCompletion(TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? Options.Timeout;
        if (TryWaitForIrqCompletion(limit, out GpioIrqCompletion completion))
        {
            return completion;
        }

        throw new TimeoutException($"No eventq completion within {limit.TotalMilliseconds} ms ({ArmedIrqCount} pair(s) armed).");
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the next returned eventq pair.</summary>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="completion">The pair.</param>
    /// <returns><see langword="false"/> on timeout.</returns>
    public bool TryWaitForIrqCompletion(TimeSpan timeout, out GpioIrqCompletion completion)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            long version;
            lock (_sync)
            {
                DrainEventQueue();
                if (_irqCompletions.TryDequeue(out completion!))
                {
                    return true;
                }

                version = Interrupts.Version;
            }

            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0)
            {
                return false;
            }

            Interrupts.WaitForNotification(version, TimeSpan.FromMilliseconds(Math.Min(remaining, 10)));
        }
    }

    /// <summary>Resets the device (status 0) and forgets the driver's state; <see cref="Initialize"/> may be called again.</summary>
    public void ResetDevice()
    {
        lock (_sync)
        {
            Device.Reset();
            _requestQueue = null;
            _eventQueue = null;
            _armedIrqs.Clear();
            _irqCompletions.Clear();
            _unexpected.Clear();
            NegotiatedFeatures = 0;
            IsInitialized = false;
        }
    }

    private int ExpectedLengthFor(ushort type) => type == MsgGetLineNames ? 1 + (int)Config.NamesSize : 2;

    private static InvalidOperationException NotInitialized() => new("Call Initialize first.");

    private ChainShape DefaultShape => Options.ShapeOverride ?? (IndirectNegotiated ? ChainShape.Indirect : ChainShape.Direct);

    private int QueueSizeFor(SplitQueue queue)
    {
        int size = Math.Min(Options.QueueSize, queue.MaxSize);
        SplitRingLayout.ValidateQueueSize(size);
        return size;
    }

    private SimulatedVirtioDriver CreateQueueDriver(SplitRingLayout layout, GuestBufferAllocator allocator) =>
        new(Memory, layout, allocator)
        {
            IndirectDescriptorsEnabled = IndirectNegotiated,
            EventIdxEnabled = EventIdxNegotiated,
            WritableFillByte = Options.ResponseFillByte,
        };

    private GpioRequestHandle Submit(GpioRequestHandle handle, ReadOnlySpan<ReadOnlyMemory<byte>> readable, ReadOnlySpan<int> writableLengths, ChainShape? shape)
    {
        bool kick;
        lock (_sync)
        {
            if (!IsInitialized)
            {
                throw NotInitialized();
            }

            SubmittedChain chain = RequestQueue.AddChain(readable, writableLengths, shape ?? DefaultShape);
            chain.State = handle;
            handle.Chain = chain;
            kick = RequestQueue.Publish() || !Options.KickOnlyWhenNeeded;
        }

        if (kick)
        {
            Device.NotifyQueue(0);
        }

        return handle;
    }

    // Caller holds _sync.
    private void DrainRequestQueue()
    {
        if (_requestQueue is null)
        {
            return;
        }

        while (_requestQueue.TryTakeUsed(out DriverCompletion used))
        {
            if (used.Chain?.State is GpioRequestHandle handle)
            {
                handle.Completion = new GpioCompletion(handle, used.Length, used.WritableBytes);
            }
            else
            {
                _unexpected.Add(used);
            }
        }
    }

    // Caller holds _sync.
    private void DrainEventQueue()
    {
        if (_eventQueue is null)
        {
            return;
        }

        while (_eventQueue.TryTakeUsed(out DriverCompletion used))
        {
            if (used.Chain?.State is ushort line)
            {
                if (_armedIrqs.TryGetValue(line, out int count))
                {
                    if (count <= 1)
                    {
                        _armedIrqs.Remove(line);
                    }
                    else
                    {
                        _armedIrqs[line] = count - 1;
                    }
                }

                _irqCompletions.Enqueue(new GpioIrqCompletion(line, used.Length, used.WritableBytes, isTracked: true));
            }
            else
            {
                _unexpected.Add(used);
                _irqCompletions.Enqueue(new GpioIrqCompletion(ushort.MaxValue, used.Length, used.WritableBytes, isTracked: false));
            }
        }
    }
}
