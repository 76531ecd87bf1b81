// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Transport.VhostUser;
using VirtioGpio.Transport.VhostUser.Interop;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

/// <summary>A raw, minimal vhost-user front-end over a real socket, for back-end tests (every wait has a timeout).</summary>
internal sealed unsafe class TestFrontend : IDisposable
{
    public const int TimeoutMilliseconds = 5000;

    public TestFrontend(int fd)
    {
        Fd = fd;
        Assert.Equal(0, UnixSocket.SetTimeouts(fd, TimeSpan.FromMilliseconds(TimeoutMilliseconds), TimeSpan.FromMilliseconds(TimeoutMilliseconds)));
    }

    public int Fd { get; private set; }

    public static TestFrontend Connect(string path)
    {
        int errno = UnixSocket.TryConnect(path, out int fd);
        Assert.True(errno == 0, $"connect({path}) failed: errno {errno}");
        return new TestFrontend(fd);
    }

    public void Send(FrontendRequest request, ReadOnlySpan<byte> payload = default, bool needReply = false, ReadOnlySpan<int> fds = default)
        => SendRaw((uint)request, VhostUserHeaderFlags.Version1 | (needReply ? VhostUserHeaderFlags.NeedReply : 0), payload, fds);

    public void SendRaw(uint request, VhostUserHeaderFlags flags, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds = default, uint? sizeOverride = null)
    {
        byte[] message = new byte[VhostUserMessageHeader.Size + payload.Length];
        new VhostUserMessageHeader(request, flags, sizeOverride ?? (uint)payload.Length).Write(message);
        payload.CopyTo(message.AsSpan(VhostUserMessageHeader.Size));
        int errno = UnixSocket.Send(Fd, message, fds);
        Assert.True(errno == 0, $"send failed: errno {errno}");
    }

    /// <summary>Receives one reply (header + payload); fails the test after the timeout.</summary>
    public (VhostUserMessageHeader Header, byte[] Payload) Receive()
    {
        byte[] head = new byte[VhostUserMessageHeader.Size];
        ReadExactly(head);
        VhostUserMessageHeader header = VhostUserMessageHeader.Read(head);
        byte[] payload = new byte[header.PayloadSize];
        ReadExactly(payload);
        return (header, payload);
    }

    /// <summary>Receives one reply that carries fds.</summary>
    public (VhostUserMessageHeader Header, byte[] Payload, int[] Fds) ReceiveWithFds()
    {
        byte[] head = new byte[VhostUserMessageHeader.Size];
        int[] fds = new int[UnixSocket.MaxFdsPerMessage];
        int received = UnixSocket.Receive(Fd, head, fds, out int fdCount, out bool truncated);
        Assert.True(received == VhostUserMessageHeader.Size, $"reply header: received {received}");
        Assert.False(truncated);
        VhostUserMessageHeader header = VhostUserMessageHeader.Read(head);
        byte[] payload = new byte[header.PayloadSize];
        ReadExactly(payload);
        return (header, payload, fds.AsSpan(0, fdCount).ToArray());
    }

    private void ReadExactly(Span<byte> destination)
    {
        int[] fds = new int[UnixSocket.MaxFdsPerMessage];
        while (!destination.IsEmpty)
        {
            int received = UnixSocket.Receive(Fd, destination, fds, out int count, out _);
            FileDescriptors.CloseAll(fds.AsSpan(0, count));
            Assert.True(received > 0, received == 0 ? "the back-end closed the connection" : $"no reply within the timeout (errno {-received})");
            destination = destination.Slice(received);
        }
    }

    /// <summary>Whether the back-end closed the connection within the timeout (reads and discards anything sent before).</summary>
    public bool WaitClosed()
    {
        byte[] buffer = new byte[4096];
        int[] fds = new int[UnixSocket.MaxFdsPerMessage];
        while (true)
        {
            int received = UnixSocket.Receive(Fd, buffer, fds, out int count, out _);
            FileDescriptors.CloseAll(fds.AsSpan(0, count));
            if (received == 0 || received == -LibC.ECONNRESET)
            {
                return true;
            }

            if (received < 0)
            {
                return false; // timeout: still open
            }
        }
    }

    /// <summary>Whether nothing arrives within <paramref name="milliseconds"/> (connection open and silent).</summary>
    public bool IsSilent(int milliseconds)
    {
        LibC.PollFd poll = new() { Fd = Fd, Events = LibC.POLLIN };
        return LibC.poll(&poll, 1, milliseconds) == 0;
    }

    public ulong ReceiveU64(FrontendRequest expected)
    {
        var (header, payload) = Receive();
        Assert.Equal((uint)expected, header.Request);
        Assert.Equal(VhostUserHeaderFlags.Version1 | VhostUserHeaderFlags.Reply, header.Flags);
        Assert.Equal(8, payload.Length);
        return BinaryPrimitives.ReadUInt64LittleEndian(payload);
    }

    public ulong Get(FrontendRequest request)
    {
        Send(request);
        return ReceiveU64(request);
    }

    /// <summary>Sends with NEED_REPLY and returns the ack value (REPLY_ACK must be negotiated).</summary>
    public ulong Ack(FrontendRequest request, ReadOnlySpan<byte> payload = default, ReadOnlySpan<int> fds = default)
    {
        Send(request, payload, needReply: true, fds);
        return ReceiveU64(request);
    }

    public static byte[] U64(ulong value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    public static byte[] State(uint index, uint num)
    {
        byte[] bytes = new byte[8];
        new VhostUserVringState(index, num).Write(bytes);
        return bytes;
    }

    /// <summary>GET_FEATURES, GET/SET_PROTOCOL_FEATURES, SET_OWNER (the QEMU phase A start).</summary>
    public void Negotiate(VhostUserProtocolFeatures protocol = VhostUserProtocolFeatures.Supported)
    {
        Get(FrontendRequest.GetFeatures);
        ulong offered = Get(FrontendRequest.GetProtocolFeatures);
        Send(FrontendRequest.SetProtocolFeatures, U64(offered & (ulong)protocol));
        Send(FrontendRequest.SetOwner);
    }

    public void Dispose()
    {
        FileDescriptors.Close(Fd);
        Fd = -1;
    }
}
