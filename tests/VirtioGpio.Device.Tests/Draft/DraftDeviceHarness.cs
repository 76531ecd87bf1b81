// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Gpio.Draft;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Draft;

/// <summary>
/// Drives a <see cref="DraftVirtioGpioDevice"/> the way the draft Linux driver does, through the engine and the
/// test kit's <see cref="SimulatedVirtioDriver"/>: q0 ("in") gets 8-byte rx buffers, q1 ("out") gets 8-byte requests.
/// Records one merged trace of used-index publications (C0 / C1, with used len), notifications (N0 / N1) and config
/// changes (CFG), in the order the device performed them.
/// </summary>
internal sealed class DraftDeviceHarness : IVirtioInterruptSink
{
    public const ulong Q0Base = 0x0;
    public const ulong Q1Base = 0x20000;
    public const ulong BufferBase = 0x40000;

    private readonly object _traceGate = new();
    private readonly List<string> _trace = new();

    /// <param name="options">Device options; <see cref="DefaultOptions"/> when null.</param>
    /// <param name="q0Size">Size of the driver's q0 ("in") ring.</param>
    /// <param name="q1Size">Size of the driver's q1 ("out") ring: the request budget.</param>
    /// <param name="activate">Whether to run <see cref="Start"/> at once.</param>
    /// <param name="fastPath">Give the device the core <c>RegionGuestMemory</c> (the engine's resolved-ring fast path)
    /// instead of the tracing wrapper; C0/C1 are then not traced (N1 and CFG still are).</param>
    public DraftDeviceHarness(DraftVirtioGpioDeviceOptions? options = null, int q0Size = 64, int q1Size = 256, bool activate = true, bool fastPath = false)
    {
        Memory = new TestGuestMemory(4 << 20);
        var allocator = new GuestBufferAllocator(new GuestRange(BufferBase, (4UL << 20) - BufferBase));
        Rx = new SimulatedVirtioDriver(Memory, SplitRingLayout.Compact(q0Size, new GuestAddress(Q0Base)), allocator);
        Tx = new SimulatedVirtioDriver(Memory, SplitRingLayout.Compact(q1Size, new GuestAddress(Q1Base)), allocator);
        DeviceMemory = fastPath ? Memory.RegionMemory : new TracingMemory(Memory, this);
        Device = new DraftVirtioGpioDevice(options ?? DefaultOptions());
        if (activate)
        {
            Start();
        }
    }

    public TestGuestMemory Memory { get; }

    /// <summary>Whether used-index publications and notifications are recorded (off for allocation measurements).</summary>
    public bool TracingEnabled { get; set; } = true;

    public IGuestMemory DeviceMemory { get; }

    public SimulatedVirtioDriver Rx { get; }

    public SimulatedVirtioDriver Tx { get; }

    public DraftVirtioGpioDevice Device { get; }

    public GpioLinesAccess Lines => new((SimulatedGpioLineBackend)Device.Backend);

    public List<string> Trace
    {
        get
        {
            lock (_traceGate)
            {
                return _trace.ToList();
            }
        }
    }

    /// <summary>DRAFT.md §10 defaults: 8 lines, names LED0, "", BTN1, RELAY (names_size 0x11), chip "draft-gpio".</summary>
    public static DraftVirtioGpioDeviceOptions DefaultOptions() => new()
    {
        LineCount = 8,
        ChipName = "draft-gpio",
        LineNames = new[] { "LED0", "", "BTN1", "RELAY" },
    };

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    /// <summary>FEATURES_OK, queue setup and DRIVER_OK as a transport would do them.</summary>
    public void Start(Action? beforeQueuesReady = null)
    {
        Assert.True(Device.TryAcceptFeatures(VirtioFeatures.Version1));
        Rx.ConfigureDeviceQueue(Device.GetQueue(0), DeviceMemory, activate: false);
        Tx.ConfigureDeviceQueue(Device.GetQueue(1), DeviceMemory, activate: false);
        Device.Activate(DeviceMemory, this);
        beforeQueuesReady?.Invoke();
        Assert.Equal(VirtqueueError.None, Device.SetQueueReady(0, true));
        Assert.Equal(VirtqueueError.None, Device.SetQueueReady(1, true));
    }

    /// <summary>Posts one rx buffer on q0 (the driver's <c>virtio_gpio_prepare_inbuf</c>) and kicks q0.</summary>
    public SubmittedChain PostRx(int length = 8, bool kick = true)
    {
        SubmittedChain chain = Rx.AddChain(ReadOnlySpan<ReadOnlyMemory<byte>>.Empty, new[] { length });
        Rx.Publish();
        if (kick)
        {
            Device.NotifyQueue(0);
        }

        return chain;
    }

    /// <summary>Adds one 8-byte request on q1 without kicking.</summary>
    public SubmittedChain AddTx(byte[] request)
    {
        SubmittedChain chain = Tx.AddChain(new ReadOnlyMemory<byte>[] { request }, ReadOnlySpan<int>.Empty);
        Tx.Publish();
        return chain;
    }

    /// <summary>One driver RPC as the v3 driver does it: post an rx buffer, send the request, kick q1.</summary>
    public SubmittedChain Rpc(string requestHex)
    {
        PostRx();
        SubmittedChain tx = AddTx(Hex(requestHex));
        Device.NotifyQueue(1);
        return tx;
    }

    /// <summary>Takes the next q0 used element (the reply the driver's callback would read).</summary>
    public DriverCompletion TakeReply()
    {
        Assert.True(Rx.TryTakeUsed(out DriverCompletion completion), "no q0 used entry");
        return completion;
    }

    public string TakeReplyHex()
    {
        DriverCompletion c = TakeReply();
        Assert.Equal(8u, c.Length);
        return Convert.ToHexString(c.Written.Span).ToLowerInvariant();
    }

    public void ClearTrace()
    {
        lock (_traceGate)
        {
            _trace.Clear();
        }
    }

    /// <summary>Runs one RPC and asserts DRAFT.md §5's exact C0(len 8) → C1(len 0) → N1 sequence and the reply bytes.</summary>
    public void AssertRpc(string requestHex, string expectedReplyHex)
    {
        ClearTrace();
        Rpc(requestHex);
        Assert.Equal(new[] { "C0:8", "C1:0", "N1" }, Trace);
        Assert.Equal(expectedReplyHex.Replace(" ", string.Empty, StringComparison.Ordinal), TakeReplyHex());
        Assert.True(Tx.TryTakeUsed(out DriverCompletion tx));
        Assert.Equal(0u, tx.Length);
    }

    void IVirtioInterruptSink.NotifyUsedBuffers(int queueIndex)
    {
        if (TracingEnabled)
        {
            Record(queueIndex == 0 ? "N0" : queueIndex == 1 ? "N1" : "N" + queueIndex);
        }
    }

    void IVirtioInterruptSink.NotifyConfigChange() => Record("CFG");

    internal void Record(string entry)
    {
        if (!TracingEnabled)
        {
            return;
        }

        lock (_traceGate)
        {
            _trace.Add(entry);
        }
    }

    /// <summary>Lines of the device's own simulated backend.</summary>
    internal readonly struct GpioLinesAccess
    {
        public GpioLinesAccess(SimulatedGpioLineBackend lines) => Backend = lines;

        public SimulatedGpioLineBackend Backend { get; }
    }

    /// <summary>The device's view of guest memory: passes everything through and records used.idx publications.</summary>
    internal sealed class TracingMemory : IGuestMemory
    {
        private readonly IGuestMemory _inner;
        private readonly DraftDeviceHarness _harness;

        public TracingMemory(IGuestMemory inner, DraftDeviceHarness harness)
        {
            _inner = inner;
            _harness = harness;
        }

        public GuestMemoryError TryGetSpan(GuestAddress address, int length, GuestMemoryAccess access, out Span<byte> span) =>
            _inner.TryGetSpan(address, length, access, out span);

        public GuestMemoryError TryRead(GuestAddress address, Span<byte> destination) => _inner.TryRead(address, destination);

        public GuestMemoryError TryWrite(GuestAddress address, ReadOnlySpan<byte> source) => _inner.TryWrite(address, source);

        public GuestMemoryError TryLoadAcquireUInt16(GuestAddress address, out ushort value) => _inner.TryLoadAcquireUInt16(address, out value);

        public GuestMemoryError TryStoreReleaseUInt16(GuestAddress address, ushort value)
        {
            GuestMemoryError error = _inner.TryStoreReleaseUInt16(address, value);
            if (!_harness.TracingEnabled)
            {
                return error;
            }

            Span<byte> len = stackalloc byte[4];
            for (int q = 0; q < 2; q++)
            {
                SimulatedVirtioDriver driver = q == 0 ? _harness.Rx : _harness.Tx;
                if (address == driver.Layout.UsedIndexAddress)
                {
                    // The element just published is at (value - 1) % N; its len was written before the idx.
                    int slot = (ushort)(value - 1) % driver.QueueSize;
                    GuestAddress lenAddress = new(driver.Layout.UsedEntryAddress(slot).Value + 4);
                    _inner.TryRead(lenAddress, len);
                    _harness.Record($"C{q}:{System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(len)}");
                }
            }

            return error;
        }
    }
}
