// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Testing.VhostUser;
using VirtioGpio.Transport.VhostUser;

namespace VirtioGpio.Device.Benchmarks.ThroughDaemon;

/// <summary>
/// The <c>through-daemon</c> variant of WORKLOAD.md: the 128-chain batch of the shared workload
/// (1 MiB region at GPA 0, one 256-entry split queue with the descriptor table at 0x0, avail ring
/// at 0x1000, used ring at 0x2000, 64 lines, GET_VALUE requests) submitted by a vhost-user
/// front-end over a real Unix socket, with memfd guest memory and eventfd kick/call. One batch is
/// timed from the <c>avail.idx</c> publish to the call eventfd that reports the last used entry.
/// </summary>
/// <remarks>
/// By default the back-end is an in-process <see cref="VhostUserBackendServer"/> serving a
/// <see cref="VirtioGpioDevice"/> with 64 simulated lines; with a socket path it is any vhost-user
/// GPIO back-end (for example another implementation's daemon), so figures can be compared on
/// the same machine. Responses and used entries are verified by <see cref="RunAndVerifyBatch"/>,
/// outside the timed loop.
/// </remarks>
public sealed unsafe class ThroughDaemonSession : IDisposable
{
    /// <summary>Chains per batch.</summary>
    public const int Batch = 128;

    /// <summary>Queue size.</summary>
    public const int QueueSize = 256;

    private const ulong RequestArea = 0x10000;
    private const ulong ResponseArea = 0x20000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly string? _directory;
    private readonly CancellationTokenSource? _cts;
    private readonly VirtioGpioDevice? _device;
    private readonly VhostUserBackendServer? _server;
    private readonly Task? _serverTask;
    private readonly VhostUserFrontendClient _client;
    private readonly VhostUserFrontendQueue _queue;
    private readonly byte* _base;
    private ushort _availIndex;
    private ushort _usedIndex;

    private ThroughDaemonSession(string? socketPath)
    {
        if (socketPath is null)
        {
            _directory = Path.Combine(Path.GetTempPath(), "vgpio-bench-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(_directory);
            socketPath = Path.Combine(_directory, "gpio.sock");
            _device = new VirtioGpioDevice(new VirtioGpioDeviceOptions { LineCount = 64 });
            _server = new VhostUserBackendServer(socketPath, _device);
            _cts = new CancellationTokenSource();
            _serverTask = _server.RunAsync(_cts.Token);
        }

        SocketPath = socketPath;
        _client = VhostUserFrontendClient.Connect(socketPath, new VhostUserFrontendClientOptions
        {
            MemorySize = 1 << 20,
            AllocatorArea = new GuestRange(0x40000, 0x10000), // outside the workload's fixed areas
            Timeout = Timeout,
        });

        // Plain split ring: no EVENT_IDX, no indirect descriptors, no eventq (F_IRQ not acked).
        _client.Negotiate(features: VirtioFeatures.Version1 | VhostUserFrontendClient.ProtocolFeaturesFeature);
        byte[] config = _client.GetConfig(0, 8);
        LineCount = config.Length == 8 ? BinaryPrimitives.ReadUInt16LittleEndian(config) : 0;
        _client.SetMemTable();
        _queue = _client.CreateQueue(0, QueueSize, SplitRingLayout.Workload(QueueSize));
        _base = (byte*)_client.Memory.Regions[0].UserAddress;
        WriteWorkload();
        _client.StartQueue(_queue, 0);
    }

    /// <summary>The back-end's socket.</summary>
    public string SocketPath { get; }

    /// <summary>Whether the back-end runs in this process.</summary>
    public bool InProcess => _server is not null;

    /// <summary>The back-end's <c>ngpio</c> (the workload wants 64; lines beyond it answer ERR).</summary>
    public int LineCount { get; }

    /// <summary>Connects to <paramref name="socketPath"/>, or starts an in-process back-end when it is <see langword="null"/>, and sets up the workload.</summary>
    /// <param name="socketPath">A vhost-user GPIO back-end's socket, or <see langword="null"/>.</param>
    /// <returns>The session.</returns>
    public static ThroughDaemonSession Start(string? socketPath = null) => new(socketPath);

    /// <summary>One timed iteration: publish 128 chains, kick, wait on the call eventfd until all 128 are used, consume them.</summary>
    public void RunBatch()
    {
        ushort* availRing = (ushort*)(_base + 0x1004);
        ushort start = _availIndex;
        for (int k = 0; k < Batch; k++)
        {
            availRing[(start + k) & (QueueSize - 1)] = (ushort)(2 * k);
        }

        _availIndex = (ushort)(start + Batch);
        Volatile.Write(ref *(ushort*)(_base + 0x1002), _availIndex); // release: VIRTIO 1.3 §2.7.13
        _queue.Kick();
        WaitForUsed((ushort)(_usedIndex + Batch));
        _usedIndex = (ushort)(_usedIndex + Batch);
    }

    /// <summary>One request round trip (chain 0: GET_VALUE line 0): publish, kick, wait for the call.</summary>
    public void RoundTrip()
    {
        ushort* availRing = (ushort*)(_base + 0x1004);
        availRing[_availIndex & (QueueSize - 1)] = 0;
        _availIndex++;
        Volatile.Write(ref *(ushort*)(_base + 0x1002), _availIndex);
        _queue.Kick();
        WaitForUsed((ushort)(_usedIndex + 1));
        _usedIndex++;
    }

    /// <summary>Runs one batch and checks every used element (id, len 2) and response (status OK for lines the back-end has). Not timed.</summary>
    /// <exception cref="InvalidOperationException">A used element or response is wrong.</exception>
    public void RunAndVerifyBatch()
    {
        ushort first = _usedIndex;
        for (int i = 0; i < Batch; i++)
        {
            *(ushort*)(_base + ResponseArea + (16UL * (ulong)i)) = 0xAAAA;
        }

        RunBatch();
        var seen = new bool[Batch];
        for (int k = 0; k < Batch; k++)
        {
            byte* element = _base + 0x2004 + (8 * ((first + k) & (QueueSize - 1)));
            uint id = *(uint*)element;
            uint length = *(uint*)(element + 4);
            if (id % 2 != 0 || id >= 2 * Batch || seen[id / 2] || length != 2)
            {
                throw new InvalidOperationException($"Used element {k}: id {id} len {length}.");
            }

            seen[id / 2] = true;
            int i = (int)(id / 2);
            byte status = *(_base + ResponseArea + (16UL * (ulong)i));
            byte value = *(_base + ResponseArea + (16UL * (ulong)i) + 1);
            bool lineExists = i % 64 < LineCount;
            if ((lineExists && status != 0) || (!lineExists && status != 1) || value > 1)
            {
                throw new InvalidOperationException($"Response {i}: status {status} value {value} (ngpio {LineCount}).");
            }
        }
    }

    /// <summary>Closes the client and stops the in-process back-end.</summary>
    public void Dispose()
    {
        _client.Dispose();
        if (_server is not null)
        {
            _cts!.Cancel();
            _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _serverTask!.Wait(Timeout);
            _device!.Dispose();
            _cts.Dispose();
            Directory.Delete(_directory!, recursive: true);
        }
    }

    private void WaitForUsed(ushort target)
    {
        ushort* usedIndex = (ushort*)(_base + 0x2002);
        while (true)
        {
            if (!_queue.WaitForCall(Timeout))
            {
                throw new TimeoutException($"No call within {Timeout.TotalSeconds} s (used.idx {Volatile.Read(ref *usedIndex)}, want {target}).");
            }

            if (Volatile.Read(ref *usedIndex) == target)
            {
                return;
            }
        }
    }

    private void WriteWorkload()
    {
        for (int i = 0; i < Batch; i++)
        {
            byte* readable = _base + (16 * (2 * i));
            *(ulong*)readable = RequestArea + (16UL * (ulong)i);
            *(uint*)(readable + 8) = 8;
            *(ushort*)(readable + 12) = 1; // VIRTQ_DESC_F_NEXT
            *(ushort*)(readable + 14) = (ushort)((2 * i) + 1);
            byte* writable = readable + 16;
            *(ulong*)writable = ResponseArea + (16UL * (ulong)i);
            *(uint*)(writable + 8) = 2;
            *(ushort*)(writable + 12) = 2; // VIRTQ_DESC_F_WRITE
            *(ushort*)(writable + 14) = 0;
            byte* request = _base + RequestArea + (16UL * (ulong)i);
            *(ushort*)request = (ushort)GpioMessageType.GetValue;
            *(ushort*)(request + 2) = (ushort)(i % 64);
            *(uint*)(request + 4) = 0;
        }
    }
}
