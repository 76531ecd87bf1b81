// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Diagnostics;
using VirtioGpio.Device.Memory;
using VirtioGpio.Transport.VhostUser;
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Device.Testing.VhostUser;

/// <summary>
/// A vhost-user front-end for tests and benchmarks: the part of QEMU that talks to a back-end
/// (qemu docs/interop/vhost-user.rst; VHOST-USER.md). It connects to a back-end's socket, owns
/// memfd guest memory (<see cref="Memory"/>), negotiates features, sends the memory table and ring
/// setup with the user addresses of its own mappings, kicks through eventfds and waits on call
/// eventfds, and drives GPIO requests through <see cref="VhostUserFrontendQueue"/>s. The raw API
/// (<see cref="SendRaw(uint, uint, ReadOnlySpan{byte}, ReadOnlySpan{int})"/>,
/// <see cref="ReceiveReply"/>) sends anything, malformed messages included.
/// </summary>
/// <remarks>
/// <para>Works against an in-process <c>VhostUserBackendServer</c> or any back-end process
/// (<c>--socket PATH</c>). Every wait is bounded by <see cref="VhostUserFrontendClientOptions.Timeout"/>.</para>
/// <para>Not thread-safe: one thread drives the client.</para>
/// </remarks>
/// <example>
/// <code>
/// using var client = VhostUserFrontendClient.Connect("/tmp/gpio.sock");
/// client.Negotiate();
/// client.SetMemTable();
/// VhostUserFrontendQueue requests = client.SetUpQueue(0, 256);
/// DriverCompletion done = requests.SendGpioRequest(4, 3, 0);   // GET_VALUE line 3
/// </code>
/// </example>
public sealed class VhostUserFrontendClient : IDisposable
{
    /// <summary>Header flags: version 1 (bits 0–1).</summary>
    public const uint FlagVersion1 = 0x1;

    /// <summary>Header flags: REPLY (bit 2), set on back-end replies.</summary>
    public const uint FlagReply = 0x4;

    /// <summary>Header flags: NEED_REPLY (bit 3), asks for a REPLY_ACK.</summary>
    public const uint FlagNeedReply = 0x8;

    /// <summary>Size of the message header.</summary>
    public const int HeaderSize = 12;

    /// <summary>VHOST_USER_F_PROTOCOL_FEATURES (virtio feature bit 30).</summary>
    public const ulong ProtocolFeaturesFeature = 1UL << 30;

    /// <summary>Bit 8 of the SET_VRING_KICK/CALL/ERR payload: no fd attached.</summary>
    public const ulong VringNoFdFlag = 1UL << 8;

    /// <summary>VIRTIO_GPIO_F_IRQ (bit 0).</summary>
    public const ulong GpioIrqFeature = 1UL << 0;

    /// <summary>The virtio features <see cref="Negotiate"/> accepts by default when offered.</summary>
    public const ulong DefaultFeatures = VirtioFeatures.Version1 | VirtioFeatures.RingIndirectDesc | VirtioFeatures.RingEventIdx | GpioIrqFeature | ProtocolFeaturesFeature;

    /// <summary>The protocol features <see cref="Negotiate"/> accepts by default when offered.</summary>
    public const VhostUserProtocolFeatures DefaultProtocolFeatures = VhostUserProtocolFeatures.Mq | VhostUserProtocolFeatures.ReplyAck
        | VhostUserProtocolFeatures.Config | VhostUserProtocolFeatures.InflightShmfd | VhostUserProtocolFeatures.ResetDevice
        | VhostUserProtocolFeatures.ConfigureMemSlots | VhostUserProtocolFeatures.Status;

    private const int MaxReplyPayload = 64 * 1024;
    private const short PollIn = 0x1;

    private readonly Dictionary<int, VhostUserFrontendQueue> _queues = new();
    private readonly List<VhostUserMessage> _transcript = new();
    private int _socket = -1;
    private bool _disposed;

    private VhostUserFrontendClient(string socketPath, VhostUserFrontendClientOptions options)
    {
        SocketPath = socketPath;
        Options = options;
        RequestAcks = options.RequestAcks;
        Memory = options.MemoryRegions is { } layouts ? VhostUserGuestMemory.Create(layouts) : VhostUserGuestMemory.Create(options.MemorySize);
        try
        {
            GuestRange area = options.AllocatorArea ?? new GuestRange(Memory.Regions[0].GuestAddress, Memory.Regions[0].Size);
            Allocator = new GuestBufferAllocator(area);
            _socket = ConnectSocket(socketPath, options.ConnectTimeout);
        }
        catch
        {
            Memory.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates guest memory and connects to the back-end at <paramref name="socketPath"/>, retrying
    /// while the socket is absent or refuses, up to <see cref="VhostUserFrontendClientOptions.ConnectTimeout"/>.
    /// </summary>
    /// <param name="socketPath">The back-end's socket.</param>
    /// <param name="options">Settings (default: <see cref="VhostUserFrontendClientOptions"/> defaults).</param>
    /// <returns>The connected client.</returns>
    /// <exception cref="IOException">The connection failed.</exception>
    public static VhostUserFrontendClient Connect(string socketPath, VhostUserFrontendClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        return new VhostUserFrontendClient(socketPath, options ?? new VhostUserFrontendClientOptions());
    }

    /// <summary>The socket path of the last connection.</summary>
    public string SocketPath { get; private set; }

    /// <summary>The settings.</summary>
    public VhostUserFrontendClientOptions Options { get; }

    /// <summary>The shared guest memory.</summary>
    public VhostUserGuestMemory Memory { get; }

    /// <summary>Where rings and buffers come from.</summary>
    public GuestBufferAllocator Allocator { get; }

    /// <summary>Whether the socket is open (it may still have been closed by the peer).</summary>
    public bool IsConnected => _socket >= 0;

    /// <summary>The connected socket's fd (-1 when disconnected), for tests that issue raw socket calls (for example more SCM_RIGHTS fds than <see cref="SendRaw(uint, uint, ReadOnlySpan{byte}, ReadOnlySpan{int})"/> allows). The client keeps ownership.</summary>
    public int SocketFd => _socket;

    /// <summary>Set NEED_REPLY on requests without a reply of their own when REPLY_ACK is negotiated (initially <see cref="VhostUserFrontendClientOptions.RequestAcks"/>).</summary>
    public bool RequestAcks { get; set; }

    /// <summary>The features of the last GET_FEATURES reply.</summary>
    public ulong BackendFeatures { get; private set; }

    /// <summary>The features sent with the last SET_FEATURES.</summary>
    public ulong AckedFeatures { get; private set; }

    /// <summary>The protocol features of the last GET_PROTOCOL_FEATURES reply.</summary>
    public VhostUserProtocolFeatures BackendProtocolFeatures { get; private set; }

    /// <summary>The protocol features sent with the last SET_PROTOCOL_FEATURES on this connection.</summary>
    public VhostUserProtocolFeatures AckedProtocolFeatures { get; private set; }

    /// <summary>Whether REPLY_ACK was negotiated on this connection.</summary>
    public bool ReplyAckNegotiated => (AckedProtocolFeatures & VhostUserProtocolFeatures.ReplyAck) != 0;

    /// <summary>Every message sent and received, when <see cref="VhostUserFrontendClientOptions.RecordTranscript"/> is set.</summary>
    public IReadOnlyList<VhostUserMessage> Transcript => _transcript;

    /// <summary>The queues set up so far, by index.</summary>
    public IReadOnlyDictionary<int, VhostUserFrontendQueue> Queues => _queues;

    /// <summary>Clears <see cref="Transcript"/>.</summary>
    public void ClearTranscript() => _transcript.Clear();

    // ---------------------------------------------------------------- connection

    /// <summary>
    /// Closes the connection and connects again (a back-end restart, VHOST-USER.md §12.5), keeping
    /// guest memory, queues, eventfds and inflight regions. Negotiated protocol features are
    /// forgotten: redo <see cref="Negotiate"/>, <see cref="SetMemTable(bool?)"/>, and
    /// <see cref="StartQueue"/> for each queue.
    /// </summary>
    /// <param name="socketPath">The socket to connect to (default: the previous one).</param>
    public void Reconnect(string? socketPath = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Disconnect();
        SocketPath = socketPath ?? SocketPath;
        AckedProtocolFeatures = VhostUserProtocolFeatures.None;
        _socket = ConnectSocket(SocketPath, Options.ConnectTimeout);
    }

    /// <summary>Closes the socket (the back-end sees a disconnect). Memory and queues stay.</summary>
    public void Disconnect() => FileDescriptors.Close(Interlocked.Exchange(ref _socket, -1));

    /// <summary>Reads and discards messages until the back-end closes the connection.</summary>
    /// <param name="timeout">How long to wait (default: <see cref="VhostUserFrontendClientOptions.Timeout"/>).</param>
    /// <returns><see langword="true"/> when the back-end closed the connection; <see langword="false"/> when it stayed open.</returns>
    public bool WaitForDisconnect(TimeSpan? timeout = null)
    {
        var stopwatch = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? Options.Timeout;
        try
        {
            while (true)
            {
                TimeSpan left = limit - stopwatch.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    return false;
                }

                if (!TryReceiveReply(left, out VhostUserMessage? message))
                {
                    return false;
                }

                message!.Dispose();
            }
        }
        catch (VhostUserProtocolException e) when (e.IsDisconnected)
        {
            return true;
        }
    }

    // ---------------------------------------------------------------- raw messages

    /// <summary>Sends a message exactly as given: header (<c>size</c> = payload length), payload, fds with the first byte.</summary>
    /// <param name="request">The request code (any value).</param>
    /// <param name="flags">The header flags (any value, reserved bits included).</param>
    /// <param name="payload">The payload.</param>
    /// <param name="fds">fds to attach (not closed; at most 32).</param>
    /// <exception cref="VhostUserProtocolException">The back-end closed the connection.</exception>
    public void SendRaw(uint request, uint flags, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds = default) =>
        SendRaw(request, flags, (uint)payload.Length, payload, fds);

    /// <summary>Sends a message whose header <c>size</c> may disagree with the bytes actually sent (truncated or oversized messages).</summary>
    /// <param name="request">The request code.</param>
    /// <param name="flags">The header flags.</param>
    /// <param name="declaredSize">The header's <c>size</c> field.</param>
    /// <param name="payload">The bytes sent after the header.</param>
    /// <param name="fds">fds to attach (not closed; at most 32).</param>
    /// <exception cref="VhostUserProtocolException">The back-end closed the connection.</exception>
    public void SendRaw(uint request, uint flags, uint declaredSize, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds = default)
    {
        byte[] bytes = new byte[HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, request);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), declaredSize);
        payload.CopyTo(bytes.AsSpan(HeaderSize));
        if (Options.RecordTranscript)
        {
            _transcript.Add(new VhostUserMessage(request, flags, payload.ToArray(), fds.ToArray(), ownsFds: false, declaredSize));
        }

        SendBytes(bytes, fds, (FrontendRequest)request);
    }

    /// <summary>Sends raw bytes (any framing), fds with the first byte.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <param name="fds">fds to attach (not closed; at most 32).</param>
    /// <exception cref="VhostUserProtocolException">The back-end closed the connection.</exception>
    public void SendRawBytes(ReadOnlySpan<byte> bytes, ReadOnlySpan<int> fds = default) => SendBytes(bytes, fds, FrontendRequest.None);

    /// <summary>Receives one message from the back-end.</summary>
    /// <param name="timeout">How long to wait (default: <see cref="VhostUserFrontendClientOptions.Timeout"/>).</param>
    /// <returns>The message; dispose it to close any fds it carried.</returns>
    /// <exception cref="TimeoutException">Nothing arrived in time.</exception>
    /// <exception cref="VhostUserProtocolException">The back-end closed the connection (<see cref="VhostUserProtocolException.IsDisconnected"/>).</exception>
    public VhostUserMessage ReceiveReply(TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? Options.Timeout;
        return TryReceiveReply(limit, out VhostUserMessage? message)
            ? message!
            : throw new TimeoutException($"No message from the back-end within {limit.TotalMilliseconds} ms.");
    }

    /// <summary>Receives one message if one arrives within <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait (zero: only what is already there).</param>
    /// <param name="message">The message.</param>
    /// <returns><see langword="false"/> when nothing arrived in time.</returns>
    /// <exception cref="VhostUserProtocolException">The back-end closed the connection, or sent a partial or oversized message.</exception>
    public bool TryReceiveReply(TimeSpan timeout, out VhostUserMessage? message)
    {
        message = null;
        int socket = _socket;
        if (socket < 0)
        {
            throw new VhostUserProtocolException("The client is not connected.", FrontendRequest.None, isDisconnected: true);
        }

        var stopwatch = Stopwatch.StartNew();
        var fds = new List<int>();
        try
        {
            byte[] header = new byte[HeaderSize];
            if (!ReadExact(socket, header, fds, stopwatch, timeout, allowTimeout: true))
            {
                return false;
            }

            uint request = BinaryPrimitives.ReadUInt32LittleEndian(header);
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8));
            if (size > MaxReplyPayload)
            {
                throw new VhostUserProtocolException($"The back-end announced a {size}-byte payload.", (FrontendRequest)request);
            }

            byte[] payload = new byte[size];
            TimeSpan payloadTimeout = timeout > Options.Timeout ? timeout : Options.Timeout;
            ReadExact(socket, payload, fds, Stopwatch.StartNew(), payloadTimeout, allowTimeout: false);
            message = new VhostUserMessage(request, flags, payload, fds.ToArray(), ownsFds: true);
            fds.Clear();
            if (Options.RecordTranscript)
            {
                _transcript.Add(message);
            }

            return true;
        }
        finally
        {
            foreach (int fd in fds)
            {
                FileDescriptors.Close(fd);
            }
        }
    }

    /// <summary>Sends a request and receives exactly one reply (for requests that have a reply, or with <paramref name="needReply"/>).</summary>
    /// <param name="request">The request.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="fds">fds to attach.</param>
    /// <param name="needReply">Whether to set NEED_REPLY.</param>
    /// <returns>The reply (dispose it to close its fds).</returns>
    /// <exception cref="VhostUserProtocolException">The back-end closed the connection, or the reply does not echo the request with flags version 1 | REPLY.</exception>
    /// <exception cref="TimeoutException">No reply in time.</exception>
    public VhostUserMessage Call(FrontendRequest request, ReadOnlySpan<byte> payload = default, ReadOnlySpan<int> fds = default, bool needReply = false)
    {
        SendRaw((uint)request, FlagVersion1 | (needReply ? FlagNeedReply : 0), payload, fds);
        VhostUserMessage reply = ReceiveReply();
        if (reply.Request != (uint)request || reply.Flags != (FlagVersion1 | FlagReply))
        {
            reply.Dispose();
            throw new VhostUserProtocolException($"Reply to {request} is {reply}: expected request {(uint)request} with flags 0x5.", request);
        }

        return reply;
    }

    /// <summary>Sends a request with NEED_REPLY and returns the REPLY_ACK value (0 = success).</summary>
    /// <param name="request">The request.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="fds">fds to attach.</param>
    /// <returns>The u64 ack.</returns>
    /// <exception cref="VhostUserProtocolException">Disconnected, or the reply is not an 8-byte ack for this request.</exception>
    public ulong RequestAck(FrontendRequest request, ReadOnlySpan<byte> payload = default, ReadOnlySpan<int> fds = default)
    {
        using VhostUserMessage reply = Call(request, payload, fds, needReply: true);
        return reply.ReadUInt64();
    }

    /// <summary>
    /// Sends a request that has no reply of its own. With <paramref name="requestAck"/> (default:
    /// <see cref="RequestAcks"/> and REPLY_ACK negotiated) it waits for the ack and throws on ≠ 0.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="fds">fds to attach.</param>
    /// <param name="requestAck">Whether to set NEED_REPLY and check the ack; <see langword="null"/> for the default.</param>
    /// <returns>Whether an ack was received.</returns>
    /// <exception cref="VhostUserProtocolException">The back-end rejected the request (ack ≠ 0) or closed the connection.</exception>
    public bool Send(FrontendRequest request, ReadOnlySpan<byte> payload = default, ReadOnlySpan<int> fds = default, bool? requestAck = null)
    {
        bool ack = requestAck ?? (RequestAcks && ReplyAckNegotiated);
        if (!ack)
        {
            SendRaw((uint)request, FlagVersion1, payload, fds);
            return false;
        }

        ulong value = RequestAck(request, payload, fds);
        if (value != 0)
        {
            throw new VhostUserProtocolException($"The back-end rejected {request} (ack {value}).", request, value);
        }

        return true;
    }

    // ---------------------------------------------------------------- typed requests

    /// <summary>GET_FEATURES.</summary>
    /// <returns>The back-end's virtio features (also in <see cref="BackendFeatures"/>).</returns>
    public ulong GetFeatures()
    {
        using VhostUserMessage reply = Call(FrontendRequest.GetFeatures);
        BackendFeatures = reply.ReadUInt64();
        return BackendFeatures;
    }

    /// <summary>SET_FEATURES.</summary>
    /// <param name="features">The features to ack (bit 30 included when protocol features are used).</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetFeatures(ulong features, bool? requestAck = null)
    {
        Send(FrontendRequest.SetFeatures, U64(features), requestAck: requestAck);
        AckedFeatures = features;
        foreach (VhostUserFrontendQueue queue in _queues.Values)
        {
            queue.Driver.EventIdxEnabled = (features & VirtioFeatures.RingEventIdx) != 0;
        }
    }

    /// <summary>GET_PROTOCOL_FEATURES.</summary>
    /// <returns>The back-end's protocol features.</returns>
    public VhostUserProtocolFeatures GetProtocolFeatures()
    {
        using VhostUserMessage reply = Call(FrontendRequest.GetProtocolFeatures);
        BackendProtocolFeatures = (VhostUserProtocolFeatures)reply.ReadUInt64();
        return BackendProtocolFeatures;
    }

    /// <summary>SET_PROTOCOL_FEATURES (never with an ack: REPLY_ACK is not negotiated before it).</summary>
    /// <param name="features">The protocol features to ack.</param>
    public void SetProtocolFeatures(VhostUserProtocolFeatures features)
    {
        Send(FrontendRequest.SetProtocolFeatures, U64((ulong)features), requestAck: false);
        AckedProtocolFeatures = features;
    }

    /// <summary>SET_OWNER.</summary>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetOwner(bool? requestAck = null) => Send(FrontendRequest.SetOwner, requestAck: requestAck);

    /// <summary>RESET_OWNER (deprecated).</summary>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void ResetOwner(bool? requestAck = null) => Send(FrontendRequest.ResetOwner, requestAck: requestAck);

    /// <summary>GET_QUEUE_NUM (MQ).</summary>
    /// <returns>The queue count.</returns>
    public ulong GetQueueNum()
    {
        using VhostUserMessage reply = Call(FrontendRequest.GetQueueNum);
        return reply.ReadUInt64();
    }

    /// <summary>GET_MAX_MEM_SLOTS (CONFIGURE_MEM_SLOTS).</summary>
    /// <returns>The slot count.</returns>
    public ulong GetMaxMemSlots()
    {
        using VhostUserMessage reply = Call(FrontendRequest.GetMaxMemSlots);
        return reply.ReadUInt64();
    }

    /// <summary>
    /// The usual handshake, in QEMU's order (VHOST-USER.md §12.1): GET_FEATURES,
    /// GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM (with MQ), SET_OWNER, SET_FEATURES.
    /// </summary>
    /// <param name="features">Features wanted (default <see cref="DefaultFeatures"/>); only offered ones are acked.</param>
    /// <param name="protocolFeatures">Protocol features wanted (default <see cref="DefaultProtocolFeatures"/>); only offered ones are acked.</param>
    public void Negotiate(ulong? features = null, VhostUserProtocolFeatures? protocolFeatures = null)
    {
        ulong offered = GetFeatures();
        if ((offered & ProtocolFeaturesFeature) != 0)
        {
            VhostUserProtocolFeatures offeredProtocol = GetProtocolFeatures();
            SetProtocolFeatures(offeredProtocol & (protocolFeatures ?? DefaultProtocolFeatures));
            if ((AckedProtocolFeatures & VhostUserProtocolFeatures.Mq) != 0)
            {
                _ = GetQueueNum();
            }
        }

        SetOwner();
        SetFeatures(offered & (features ?? DefaultFeatures));
    }

    /// <summary>GET_CONFIG: <c>{offset, size, flags, zeros}</c>.</summary>
    /// <param name="offset">Config offset.</param>
    /// <param name="size">Bytes wanted.</param>
    /// <param name="flags">Config flags (0).</param>
    /// <returns>The config bytes; empty when the back-end answered with a zero-length (error) reply.</returns>
    /// <exception cref="VhostUserProtocolException">The reply is neither zero-length nor <c>12 + size</c> bytes echoing the request.</exception>
    public byte[] GetConfig(uint offset, uint size, uint flags = 0)
    {
        byte[] payload = new byte[12 + size];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, offset);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), size);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(8), flags);
        using VhostUserMessage reply = Call(FrontendRequest.GetConfig, payload);
        if (reply.Payload.Length == 0)
        {
            return Array.Empty<byte>();
        }

        if (reply.Payload.Length != payload.Length || !reply.Payload.AsSpan(0, 12).SequenceEqual(payload.AsSpan(0, 12)))
        {
            throw new VhostUserProtocolException($"Bad GET_CONFIG reply {reply} to offset {offset} size {size}.", FrontendRequest.GetConfig);
        }

        return reply.Payload.AsSpan(12).ToArray();
    }

    /// <summary>SET_CONFIG.</summary>
    /// <param name="offset">Config offset.</param>
    /// <param name="data">Bytes to write.</param>
    /// <param name="flags">0 = guest write, 1 = live migration.</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetConfig(uint offset, ReadOnlySpan<byte> data, uint flags = 0, bool? requestAck = null)
    {
        byte[] payload = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, offset);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), (uint)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(8), flags);
        data.CopyTo(payload.AsSpan(12));
        Send(FrontendRequest.SetConfig, payload, requestAck: requestAck);
    }

    /// <summary>SET_MEM_TABLE with this client's memory (one fd per region).</summary>
    /// <param name="requestAck">NEED_REPLY override (QEMU always sets it here).</param>
    public void SetMemTable(bool? requestAck = null) => SetMemTable(Memory.Regions, requestAck);

    /// <summary>SET_MEM_TABLE with any region list (overlapping or bogus ones for negative tests). Sends each region's <see cref="VhostUserMemoryRegionDescriptor.Fd"/> when ≥ 0.</summary>
    /// <param name="regions">The regions.</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetMemTable(IReadOnlyList<VhostUserMemoryRegionDescriptor> regions, bool? requestAck = null)
    {
        ArgumentNullException.ThrowIfNull(regions);
        Send(FrontendRequest.SetMemTable, EncodeMemTable(regions), CollectFds(regions), requestAck);
    }

    /// <summary>Encodes a SET_MEM_TABLE payload: <c>u32 nregions; u32 padding; region[n]</c>.</summary>
    /// <param name="regions">The regions.</param>
    /// <returns>The payload.</returns>
    public static byte[] EncodeMemTable(IReadOnlyList<VhostUserMemoryRegionDescriptor> regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        byte[] payload = new byte[8 + (32 * regions.Count)];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)regions.Count);
        for (int i = 0; i < regions.Count; i++)
        {
            EncodeRegion(regions[i], payload.AsSpan(8 + (32 * i)));
        }

        return payload;
    }

    /// <summary>Encodes a single-region payload (ADD/REM_MEM_REG): <c>u64 padding; region</c>.</summary>
    /// <param name="region">The region.</param>
    /// <returns>The 40-byte payload.</returns>
    public static byte[] EncodeSingleRegion(VhostUserMemoryRegionDescriptor region)
    {
        byte[] payload = new byte[40];
        EncodeRegion(region, payload.AsSpan(8));
        return payload;
    }

    /// <summary>ADD_MEM_REG (CONFIGURE_MEM_SLOTS) with the region's fd.</summary>
    /// <param name="region">The region.</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void AddMemoryRegion(VhostUserMemoryRegionDescriptor region, bool? requestAck = null) =>
        Send(FrontendRequest.AddMemReg, EncodeSingleRegion(region), region.Fd >= 0 ? new[] { region.Fd } : default, requestAck);

    /// <summary>REM_MEM_REG (CONFIGURE_MEM_SLOTS), without an fd.</summary>
    /// <param name="region">The region.</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void RemoveMemoryRegion(VhostUserMemoryRegionDescriptor region, bool? requestAck = null) =>
        Send(FrontendRequest.RemMemReg, EncodeSingleRegion(region), default, requestAck);

    /// <summary>SET_VRING_NUM.</summary>
    /// <param name="index">Ring index.</param>
    /// <param name="size">Ring size.</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetVringNum(uint index, uint size, bool? requestAck = null) => Send(FrontendRequest.SetVringNum, State(index, size), requestAck: requestAck);

    /// <summary>SET_VRING_BASE.</summary>
    /// <param name="index">Ring index.</param>
    /// <param name="nextAvailIndex">The next avail index to process.</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetVringBase(uint index, uint nextAvailIndex, bool? requestAck = null) => Send(FrontendRequest.SetVringBase, State(index, nextAvailIndex), requestAck: requestAck);

    /// <summary>SET_VRING_ADDR with raw user addresses (note the wire order desc, used, avail).</summary>
    /// <param name="index">Ring index.</param>
    /// <param name="descriptorTable">User address of the descriptor table.</param>
    /// <param name="usedRing">User address of the used ring.</param>
    /// <param name="availRing">User address of the avail ring.</param>
    /// <param name="log">Guest physical address of the used ring (for dirty logging).</param>
    /// <param name="flags">Bit 0: VHOST_VRING_F_LOG.</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetVringAddr(uint index, ulong descriptorTable, ulong usedRing, ulong availRing, ulong log, uint flags = 0, bool? requestAck = null)
    {
        byte[] payload = new byte[40];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, index);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), descriptorTable);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), usedRing);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(24), availRing);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(32), log);
        Send(FrontendRequest.SetVringAddr, payload, requestAck: requestAck);
    }

    /// <summary>SET_VRING_ADDR for a ring layout in this client's memory (guest addresses translated to user addresses).</summary>
    /// <param name="index">Ring index.</param>
    /// <param name="layout">The layout.</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetVringAddr(uint index, SplitRingLayout layout, bool? requestAck = null) =>
        SetVringAddr(index, Memory.GetUserAddress(layout.DescriptorTable), Memory.GetUserAddress(layout.UsedRing), Memory.GetUserAddress(layout.AvailRing), layout.UsedRing.Value, 0, requestAck);

    /// <summary>SET_VRING_KICK.</summary>
    /// <param name="index">Ring index.</param>
    /// <param name="fd">The eventfd, or -1 for "no fd" (bit 8: polling).</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetVringKick(uint index, int fd, bool? requestAck = null) => SendVringFd(FrontendRequest.SetVringKick, index, fd, requestAck);

    /// <summary>SET_VRING_CALL.</summary>
    /// <param name="index">Ring index.</param>
    /// <param name="fd">The eventfd, or -1 for "no fd".</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetVringCall(uint index, int fd, bool? requestAck = null) => SendVringFd(FrontendRequest.SetVringCall, index, fd, requestAck);

    /// <summary>SET_VRING_ERR.</summary>
    /// <param name="index">Ring index.</param>
    /// <param name="fd">The eventfd, or -1 for "no fd".</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetVringErr(uint index, int fd, bool? requestAck = null) => SendVringFd(FrontendRequest.SetVringErr, index, fd, requestAck);

    /// <summary>
    /// SET_VRING_ENABLE. Without an ack, and with <see cref="VhostUserFrontendClientOptions.SynchronizeAfterEnable"/>,
    /// a GET_FEATURES round trip follows so the back-end has processed the enable before the next
    /// kick (VHOST-USER.md §12.4).
    /// </summary>
    /// <param name="index">Ring index.</param>
    /// <param name="enable">Enable or disable.</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetVringEnable(uint index, bool enable, bool? requestAck = null)
    {
        bool acked = Send(FrontendRequest.SetVringEnable, State(index, enable ? 1u : 0u), requestAck: requestAck);
        if (!acked && Options.SynchronizeAfterEnable)
        {
            _ = GetFeatures();
        }
    }

    /// <summary>GET_VRING_BASE: stops the ring.</summary>
    /// <param name="index">Ring index.</param>
    /// <returns>The <c>num</c> field of the reply: the next avail index the back-end would process.</returns>
    /// <exception cref="VhostUserProtocolException">The reply is malformed or for another ring.</exception>
    public uint GetVringBase(uint index)
    {
        using VhostUserMessage reply = Call(FrontendRequest.GetVringBase, State(index, 0));
        if (reply.Payload.Length != 8 || BinaryPrimitives.ReadUInt32LittleEndian(reply.Payload) != index)
        {
            throw new VhostUserProtocolException($"Bad GET_VRING_BASE reply {reply} for ring {index}.", FrontendRequest.GetVringBase);
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(reply.Payload.AsSpan(4));
    }

    /// <summary>RESET_DEVICE.</summary>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void ResetDevice(bool? requestAck = null) => Send(FrontendRequest.ResetDevice, requestAck: requestAck);

    /// <summary>SET_STATUS (STATUS).</summary>
    /// <param name="status">The virtio status byte.</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetStatus(byte status, bool? requestAck = null) => Send(FrontendRequest.SetStatus, U64(status), requestAck: requestAck);

    /// <summary>GET_STATUS (STATUS).</summary>
    /// <returns>The status byte.</returns>
    public byte GetStatus()
    {
        using VhostUserMessage reply = Call(FrontendRequest.GetStatus);
        return (byte)reply.ReadUInt64();
    }

    /// <summary>GET_INFLIGHT_FD (INFLIGHT_SHMFD).</summary>
    /// <param name="numQueues">Queues to track.</param>
    /// <param name="queueSize">Their size.</param>
    /// <returns>The region (owns the fd).</returns>
    /// <exception cref="VhostUserProtocolException">The reply is not 24 bytes with exactly one fd.</exception>
    public VhostUserInflightRegion GetInflightFd(ushort numQueues, ushort queueSize)
    {
        using VhostUserMessage reply = Call(FrontendRequest.GetInflightFd, Inflight(0, 0, numQueues, queueSize));
        if (reply.Payload.Length != 24 || reply.FdCount != 1)
        {
            throw new VhostUserProtocolException($"Bad GET_INFLIGHT_FD reply {reply}.", FrontendRequest.GetInflightFd);
        }

        int fd = reply.TakeFds()[0];
        return new VhostUserInflightRegion(
            fd,
            BinaryPrimitives.ReadUInt64LittleEndian(reply.Payload),
            BinaryPrimitives.ReadUInt64LittleEndian(reply.Payload.AsSpan(8)),
            BinaryPrimitives.ReadUInt16LittleEndian(reply.Payload.AsSpan(16)),
            BinaryPrimitives.ReadUInt16LittleEndian(reply.Payload.AsSpan(18)));
    }

    /// <summary>SET_INFLIGHT_FD: hands a region back (after a reconnect, before the rings start).</summary>
    /// <param name="region">The region from <see cref="GetInflightFd"/>.</param>
    /// <param name="requestAck">NEED_REPLY override.</param>
    public void SetInflightFd(VhostUserInflightRegion region, bool? requestAck = null)
    {
        ArgumentNullException.ThrowIfNull(region);
        Send(FrontendRequest.SetInflightFd, Inflight(region.MmapSize, region.MmapOffset, region.NumQueues, region.QueueSize), new[] { region.Fd }, requestAck);
    }

    // ---------------------------------------------------------------- rings

    /// <summary>
    /// Creates the driver side of ring <paramref name="index"/> in guest memory (compact layout from
    /// <see cref="Allocator"/> unless <paramref name="layout"/> is given), its kick and call
    /// eventfds, and sends the ring setup in QEMU's order: SET_VRING_NUM, SET_VRING_BASE 0,
    /// SET_VRING_ADDR (user addresses), SET_VRING_KICK, SET_VRING_CALL, then SET_VRING_ENABLE 1
    /// (with a synchronous round trip) when <paramref name="enable"/>.
    /// </summary>
    /// <param name="index">Ring index.</param>
    /// <param name="size">Ring size, a power of two.</param>
    /// <param name="layout">Explicit ring addresses (guest physical).</param>
    /// <param name="enable">Whether to enable the ring.</param>
    /// <returns>The queue.</returns>
    /// <exception cref="InvalidOperationException">The ring index is already set up.</exception>
    public VhostUserFrontendQueue SetUpQueue(int index, int size = 256, SplitRingLayout? layout = null, bool enable = true)
    {
        VhostUserFrontendQueue queue = CreateQueue(index, size, layout);
        StartQueue(queue, 0, enable);
        return queue;
    }

    /// <summary>Creates the driver side of a ring and its eventfds without sending anything.</summary>
    /// <param name="index">Ring index.</param>
    /// <param name="size">Ring size.</param>
    /// <param name="layout">Explicit ring addresses, or a compact layout from <see cref="Allocator"/>.</param>
    /// <returns>The queue.</returns>
    public VhostUserFrontendQueue CreateQueue(int index, int size = 256, SplitRingLayout? layout = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_queues.ContainsKey(index))
        {
            throw new InvalidOperationException($"Queue {index} is already set up.");
        }

        SplitRingLayout.ValidateQueueSize(size);
        SplitRingLayout rings = layout ?? AllocateRings(size);
        var driver = new SimulatedVirtioDriver(Memory.GuestMemory, rings, Allocator)
        {
            EventIdxEnabled = (AckedFeatures & VirtioFeatures.RingEventIdx) != 0,
        };
        var queue = new VhostUserFrontendQueue(index, driver, Options.Timeout);
        _queues.Add(index, queue);
        return queue;
    }

    /// <summary>Sends the ring setup of an existing queue (after <see cref="Reconnect"/> or GET_VRING_BASE): NUM, BASE, ADDR, KICK, CALL, and ENABLE when asked.</summary>
    /// <param name="queue">The queue.</param>
    /// <param name="nextAvailIndex">The SET_VRING_BASE value.</param>
    /// <param name="enable">Whether to enable the ring.</param>
    public void StartQueue(VhostUserFrontendQueue queue, uint nextAvailIndex, bool enable = true)
    {
        ArgumentNullException.ThrowIfNull(queue);
        uint index = (uint)queue.Index;
        SetVringNum(index, (uint)queue.Size);
        SetVringBase(index, nextAvailIndex);
        SetVringAddr(index, queue.Layout);
        SetVringKick(index, queue.KickFd);
        SetVringCall(index, queue.CallFd);
        if (enable)
        {
            SetVringEnable(index, true);
        }
    }

    /// <summary>Closes the socket, the eventfds and the guest memory. Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Disconnect();
        foreach (VhostUserFrontendQueue queue in _queues.Values)
        {
            queue.Dispose();
        }

        _queues.Clear();
        foreach (VhostUserMessage message in _transcript)
        {
            message.Dispose();
        }

        _transcript.Clear();
        Memory.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"vhost-user front-end → {SocketPath}{(IsConnected ? string.Empty : " (disconnected)")}";

    // ---------------------------------------------------------------- helpers

    private SplitRingLayout AllocateRings(int size)
    {
        SplitRingLayout probe = SplitRingLayout.Compact(size, new GuestAddress(0));
        GuestRange block = Allocator.Allocate(probe.EndExclusive + 4096);
        ulong start = (block.Start.Value + 4095) & ~4095UL; // page-aligned like a Linux vring
        return SplitRingLayout.Compact(size, new GuestAddress(start));
    }

    private void SendVringFd(FrontendRequest request, uint index, int fd, bool? requestAck)
    {
        ulong value = index | (fd < 0 ? VringNoFdFlag : 0);
        Send(request, U64(value), fd < 0 ? default : new[] { fd }, requestAck);
    }

    private void SendBytes(ReadOnlySpan<byte> bytes, ReadOnlySpan<int> fds, FrontendRequest request)
    {
        int socket = _socket;
        if (socket < 0)
        {
            throw new VhostUserProtocolException("The client is not connected.", request, isDisconnected: true);
        }

        int errno = UnixSocket.Send(socket, bytes, fds);
        if (errno != 0)
        {
            bool gone = errno == LibC.EPIPE || errno == LibC.ECONNRESET;
            throw new VhostUserProtocolException($"Sending {request} failed: errno {errno}.", request, isDisconnected: gone);
        }
    }

    private static unsafe bool ReadExact(int socket, Span<byte> buffer, List<int> fds, Stopwatch stopwatch, TimeSpan timeout, bool allowTimeout)
    {
        int offset = 0;
        Span<int> received = stackalloc int[UnixSocket.MaxFdsPerMessage];
        while (offset < buffer.Length)
        {
            TimeSpan left = timeout - stopwatch.Elapsed;
            LibC.PollFd poll = new() { Fd = socket, Events = PollIn };
            int ready;
            do
            {
                ready = LibC.poll(&poll, 1, VhostUserFrontendQueue.ToMilliseconds(left));
            }
            while (ready < 0 && LibC.LastError == LibC.EINTR);

            if (ready == 0)
            {
                if (offset == 0 && allowTimeout)
                {
                    return false;
                }

                throw new TimeoutException($"The back-end sent {offset} of {buffer.Length} bytes and stopped.");
            }

            int count = UnixSocket.Receive(socket, buffer.Slice(offset), received, out int fdCount, out bool truncated, LibC.MSG_DONTWAIT);
            for (int i = 0; i < fdCount; i++)
            {
                fds.Add(received[i]);
            }

            if (count == -LibC.EAGAIN)
            {
                continue;
            }

            if (count == 0 || count == -LibC.ECONNRESET)
            {
                throw new VhostUserProtocolException(
                    offset == 0 ? "The back-end closed the connection." : $"The back-end closed the connection after {offset} of {buffer.Length} bytes.",
                    FrontendRequest.None,
                    isDisconnected: true);
            }

            if (count < 0)
            {
                throw UnixSocket.CreateIOException("recvmsg", -count);
            }

            if (truncated)
            {
                throw new VhostUserProtocolException("The back-end sent more fds than a message may carry.", FrontendRequest.None);
            }

            offset += count;
        }

        return true;
    }

    private static int[] CollectFds(IReadOnlyList<VhostUserMemoryRegionDescriptor> regions)
    {
        var fds = new List<int>(regions.Count);
        foreach (VhostUserMemoryRegionDescriptor region in regions)
        {
            if (region.Fd >= 0)
            {
                fds.Add(region.Fd);
            }
        }

        return fds.ToArray();
    }

    private static void EncodeRegion(VhostUserMemoryRegionDescriptor region, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, region.GuestAddress.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(8), region.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(16), region.UserAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(24), region.MmapOffset);
    }

    private static byte[] U64(ulong value)
    {
        byte[] payload = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, value);
        return payload;
    }

    private static byte[] State(uint index, uint num)
    {
        byte[] payload = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, index);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), num);
        return payload;
    }

    private static byte[] Inflight(ulong mmapSize, ulong mmapOffset, ushort numQueues, ushort queueSize)
    {
        byte[] payload = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, mmapSize);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), mmapOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(16), numQueues);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(18), queueSize);
        return payload;
    }

    private static int ConnectSocket(string path, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            int errno = UnixSocket.TryConnect(path, out int fd);
            if (errno == 0)
            {
                return fd;
            }

            bool retry = errno == LibC.ENOENT || errno == LibC.ECONNREFUSED || errno == LibC.EAGAIN;
            if (!retry || stopwatch.Elapsed >= timeout)
            {
                throw UnixSocket.CreateIOException($"connect({path})", errno);
            }

            Thread.Sleep(10);
        }
    }
}
