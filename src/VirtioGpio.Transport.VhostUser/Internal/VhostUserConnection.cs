// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;
using VirtioGpio.Device;
using VirtioGpio.Device.Memory;
using VirtioGpio.Transport.VhostUser.Inflight;
using VirtioGpio.Transport.VhostUser.Interop;
using VirtioGpio.Transport.VhostUser.Memory;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Internal;

/// <summary>
/// One front-end connection: an epoll event loop on a dedicated thread over the socket, every kick
/// fd and a wake eventfd. Messages are read, syntax-checked (<see cref="VhostUserMessageCodec"/>),
/// semantically checked here, then applied to the device. Kicks go straight from the eventfd to
/// <see cref="IVirtioDevice.NotifyQueue(int)"/> on the same thread (no Task, no await).
/// </summary>
/// <remarks>
/// <para>Byte stream: System.IO.Pipelines is deliberately not used. SCM_RIGHTS fds are attached to
/// the first byte of a message, so the header is read with its own recvmsg and the payload with
/// exact-length recvmsg calls; a pipe's read-ahead would consume the next message's first byte
/// and detach its fds from it. Messages are capped at 4 KiB, so one fixed buffer is enough.</para>
/// <para>Not thread-safe: everything runs on the loop thread except the interrupt sink.</para>
/// <para>fd budget: at most 32 fds per message (larger control data is MSG_CTRUNC and closes the
/// connection); fds not taken by a handler are closed right after it. The connection then holds
/// at most kick + call + err per ring and one back-end channel, each replaced fd closed at once,
/// so the total per connection is bounded by 3 × queues + 1 by construction (memory-region and
/// inflight fds are closed after mmap).</para>
/// </remarks>
internal sealed partial class VhostUserConnection
{
    private const ulong TokenSocket = 0;
    private const ulong TokenWake = 1;
    private const uint TokenKickBase = 2;
    private const ulong ProtocolFeaturesBit = 1UL << 30;

    private readonly IVirtioDevice _device;
    private readonly VhostUserBackendOptions _options;
    private readonly ILogger _logger;
    private readonly LogRateLimiter _limiter = new();
    private readonly VringState[] _rings;
    private readonly VhostUserInterruptSink _sink;
    private readonly Epoll _epoll;
    private readonly byte[] _rx = new byte[VhostUserMessageHeader.Size + VhostUserMessageCodec.MaxPayloadSize];
    private readonly byte[] _tx = new byte[VhostUserMessageHeader.Size + VhostUserMessageCodec.MaxPayloadSize];
    private readonly int[] _fds = new int[UnixSocket.MaxFdsPerMessage];
    private readonly int[] _strayFds = new int[UnixSocket.MaxFdsPerMessage];
    private readonly object _backendLock = new();
    private readonly ulong[] _tokens = new ulong[16];
    private readonly uint[] _masks = new uint[16];
    private readonly ulong _offeredFeatures;
    private readonly VhostUserProtocolFeatures _offeredProtocol;

    private readonly int _wakeFd;
    private int _socketFd;
    private int _fdCount;
    private ulong _ackedFeatures;
    private bool _featuresSet;
    private VhostUserProtocolFeatures _protocol;
    private bool _protocolSet;
    private VhostUserMemoryTable _memory = VhostUserMemoryTable.Empty;
    private IGuestMemory? _activatedMemory;
    private InflightRegion? _inflight;
    private InflightQueueTracker?[] _trackers;
    private int _backendFd = -1;
    private byte _status;
    private int _pendingConfigChange;
    private volatile bool _stopRequested;
    private string _closeReason = "front-end closed the connection";

    /// <summary>Creates a connection over an accepted socket (which it then owns).</summary>
    public VhostUserConnection(int socketFd, IVirtioDevice device, VhostUserBackendOptions options, ILogger logger)
    {
        _socketFd = socketFd;
        _device = device;
        _options = options;
        _logger = logger;
        _rings = new VringState[device.QueueCount];
        for (int i = 0; i < _rings.Length; i++)
        {
            _rings[i] = new VringState(i);
        }

        _trackers = new InflightQueueTracker?[_rings.Length];
        _offeredFeatures = device.DeviceFeatures | ProtocolFeaturesBit;
        _offeredProtocol = options.EffectiveProtocolFeatures;
        _epoll = new Epoll(_tokens.Length);
        int wakeFd = EventFd.Create();
        _wakeFd = wakeFd;
        _sink = new VhostUserInterruptSink(_rings, wakeFd, () => Interlocked.Exchange(ref _pendingConfigChange, 1));
        if (_epoll.Add(_socketFd, TokenSocket) != 0 || _epoll.Add(wakeFd, TokenWake) != 0)
        {
            int errno = LibC.LastError;
            _sink.Close();
            _epoll.Dispose();
            throw UnixSocket.CreateIOException("epoll_ctl", errno);
        }

        _ = UnixSocket.SetTimeouts(_socketFd, options.IoTimeout, options.IoTimeout);
    }

    /// <summary>Why the connection ended.</summary>
    public string CloseReason => _closeReason;

    /// <summary>Asks the loop to stop (any thread).</summary>
    public void RequestStop()
    {
        _stopRequested = true;
        _sink.Wake();
    }

    /// <summary>Serves the connection until the front-end disconnects, a protocol error, or <see cref="RequestStop"/>; then cleans up.</summary>
    public void Run()
    {
        try
        {
            Loop();
        }
        catch (Exception ex)
        {
            _closeReason = "internal error: " + ex.Message;
            Log.ConnectionFailed(_logger, ex);
        }
        finally
        {
            Cleanup();
        }
    }

    private void Loop()
    {
        while (!_stopRequested)
        {
            int timeout = AnyPollingRing() ? 1 : -1;
            int count = _epoll.Wait(timeout, _tokens, _masks);
            if (count < 0)
            {
                _closeReason = "epoll_wait failed: errno " + (-count);
                return;
            }

            if (count == 0)
            {
                PollRings();
                continue;
            }

            for (int e = 0; e < count; e++)
            {
                ulong token = _tokens[e];
                if (token == TokenSocket)
                {
                    if (!HandleOneMessage())
                    {
                        return;
                    }
                }
                else if (token == TokenWake)
                {
                    OnWake();
                    if (_stopRequested)
                    {
                        _closeReason = "back-end stopping";
                        return;
                    }
                }
                else
                {
                    OnKick(token, _masks[e]);
                }
            }
        }

        _closeReason = "back-end stopping";
    }

    private bool AnyPollingRing()
    {
        foreach (VringState ring in _rings)
        {
            if (ring.KickPolling && ring.Ready)
            {
                return true;
            }
        }

        return false;
    }

    private void PollRings()
    {
        foreach (VringState ring in _rings)
        {
            if (ring.KickPolling && ring.Ready)
            {
                _device.NotifyQueue(ring.Index);
            }
        }

        CheckBrokenRings();
    }

    private void OnKick(ulong token, uint mask)
    {
        uint tag = (uint)token;
        uint generation = (uint)(token >> 32);
        int index = (int)(tag - TokenKickBase);
        if ((uint)index >= (uint)_rings.Length)
        {
            return;
        }

        VringState ring = _rings[index];
        if (ring.KickFd < 0 || ring.KickGeneration != generation)
        {
            return; // a stale event for a replaced kick fd
        }

        if ((mask & LibC.EPOLLIN) == 0)
        {
            // Hang-up or error without data: stop watching, or epoll would report it forever.
            _ = _epoll.Remove(ring.KickFd);
            return;
        }

        // VHOST-USER.md §1: the value of the 8-byte write has no meaning; drain it.
        _ = EventFd.TryDrain(ring.KickFd, out _);
        VhostUserMetrics.Kicks.Add(1);
        if (!ring.Started)
        {
            // VHOST-USER.md §6.1: a kick starts the ring.
            ring.Started = true;
            UpdateRing(ring);
        }

        if (ring.Ready)
        {
            _device.NotifyQueue(index);
            if (_device.NeedsReset)
            {
                CheckBrokenRings();
            }
        }
    }

    private void OnWake()
    {
        // The wake fd is ours (EFD_NONBLOCK): draining never blocks.
        _ = EventFd.TryDrain(_wakeFd, out _);
        CheckBrokenRings();
        if (Interlocked.Exchange(ref _pendingConfigChange, 0) == 1)
        {
            TrySendConfigChange();
        }
    }

    /// <summary>Signals the err fd of every ready ring whose queue broke (DEVICE_NEEDS_RESET), once per break.</summary>
    private void CheckBrokenRings()
    {
        foreach (VringState ring in _rings)
        {
            if (!ring.Ready || ring.ErrSignalled)
            {
                continue;
            }

            var queue = _device.GetQueue(ring.Index);
            if (!queue.IsBroken)
            {
                continue;
            }

            ring.ErrSignalled = true;
            lock (ring.SignalLock)
            {
                if (ring.ErrFd >= 0)
                {
                    _ = EventFd.Signal(ring.ErrFd);
                }
            }

            if (_limiter.TryAcquire(out long suppressed))
            {
                ReportSuppressed(suppressed);
                Log.RingBroken(_logger, ring.Index, queue.BrokenReason.ToString());
            }
        }
    }

    /// <summary>
    /// Sends BACKEND_CONFIG_CHANGE_MSG when BACKEND_REQ and CONFIG are negotiated and a channel is
    /// set. Never while the device is suspended (VHOST-USER.md §4, §6.2): the change stays pending
    /// until a ring starts.
    /// </summary>
    internal void TrySendConfigChange()
    {
        if ((_protocol & (VhostUserProtocolFeatures.BackendReq | VhostUserProtocolFeatures.Config)) != (VhostUserProtocolFeatures.BackendReq | VhostUserProtocolFeatures.Config))
        {
            return;
        }

        if (IsSuspended)
        {
            Interlocked.Exchange(ref _pendingConfigChange, 1);
            return;
        }

        Span<byte> message = stackalloc byte[VhostUserMessageHeader.Size];
        new VhostUserMessageHeader((uint)BackendRequest.ConfigChangeMsg, VhostUserHeaderFlags.Version1, 0).Write(message);
        lock (_backendLock)
        {
            if (_backendFd >= 0)
            {
                _ = UnixSocket.Send(_backendFd, message, default, LibC.MSG_DONTWAIT);
            }
        }
    }

    /// <summary>All rings stopped: the device is suspended (VHOST-USER.md §6.2).</summary>
    private bool IsSuspended
    {
        get
        {
            foreach (VringState ring in _rings)
            {
                if (ring.Started)
                {
                    return false;
                }
            }

            return true;
        }
    }

    private void Cleanup()
    {
        // VHOST-USER.md §9: on disconnect every queue stops and forgets its held buffers, but the
        // device itself is not reset (line state survives reconnects).
        foreach (VringState ring in _rings)
        {
            ring.Started = false;
            if (ring.Ready)
            {
                SafeDevice(() => _device.SetQueueReady(ring.Index, false));
                ring.Ready = false;
            }
        }

        for (int i = 0; i < _rings.Length; i++)
        {
            int index = i;
            SafeDevice(() => _device.ResetQueue(index));
            SafeDevice(() =>
            {
                // The queue's own configuration and indices belong to this connection too; its
                // memory is about to be unmapped.
                var queue = _device.GetQueue(index);
                queue.Tracker = null;
                queue.Reset();
                queue.Memory = null;
            });
        }

        _sink.Close();
        foreach (VringState ring in _rings)
        {
            CloseKick(ring);
            lock (ring.SignalLock)
            {
                FileDescriptors.Close(ring.CallFd);
                FileDescriptors.Close(ring.ErrFd);
                ring.CallFd = -1;
                ring.ErrFd = -1;
            }
        }

        lock (_backendLock)
        {
            FileDescriptors.Close(_backendFd);
            _backendFd = -1;
        }

        _inflight?.Dispose();
        _inflight = null;
        _memory.DisposeRegions();
        _memory = VhostUserMemoryTable.Empty;
        _epoll.Dispose();
        FileDescriptors.Close(_socketFd);
        _socketFd = -1;
    }

    private void SafeDevice(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            Log.ConnectionFailed(_logger, ex);
        }
    }

    private void CloseKick(VringState ring)
    {
        if (ring.KickFd >= 0)
        {
            _ = _epoll.Remove(ring.KickFd);
            FileDescriptors.Close(ring.KickFd);
            ring.KickFd = -1;
        }

        ring.KickGeneration++;
        ring.KickPolling = false;
    }

    private void ReportSuppressed(long suppressed)
    {
        if (suppressed > 0)
        {
            Log.Suppressed(_logger, suppressed);
        }
    }

    private void LogRejected(FrontendRequest request, string reason)
    {
        VhostUserMetrics.Errors.Add(1, new KeyValuePair<string, object?>("kind", "rejected"));
        if (_limiter.TryAcquire(out long suppressed))
        {
            ReportSuppressed(suppressed);
            Log.Rejected(_logger, request, reason);
        }
    }
}
