// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using System.Text;

namespace VirtioGpio.Transport.VhostUser.Interop;

/// <summary>
/// AF_UNIX stream sockets on raw fds, with SCM_RIGHTS fd passing (System.Net.Sockets has no
/// SCM_RIGHTS API: dotnet/runtime issue #932). Every socket is created with SOCK_CLOEXEC and every
/// fd is received with MSG_CMSG_CLOEXEC (VHOST-USER.md §11 "File-descriptor hygiene").
/// </summary>
internal static unsafe class UnixSocket
{
    /// <summary>The largest number of fds accepted in one message (rust-vmm's cap, VHOST-USER.md §2).</summary>
    public const int MaxFdsPerMessage = 32;

    /// <summary>Creates an <see cref="IOException"/> whose message names the call and the errno.</summary>
    public static IOException CreateIOException(string call, int errno)
        => new($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);

    /// <summary>UTF-8, NUL-terminated path bytes.</summary>
    /// <exception cref="ArgumentException">The path is longer than <c>sun_path</c> allows (unless <paramref name="allowLong"/>).</exception>
    public static byte[] EncodePath(string path, bool allowLong = false)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        if (!allowLong && bytes.Length - 1 > LibC.MaxSocketPathBytes)
        {
            throw new ArgumentException($"The socket path is longer than {LibC.MaxSocketPathBytes} bytes: {path}", nameof(path));
        }

        return bytes;
    }

    private static uint FillAddress(byte* address, byte[] pathBytes)
    {
        new Span<byte>(address, LibC.SockaddrUnSize).Clear();
        *(ushort*)address = LibC.AF_UNIX;
        pathBytes.AsSpan().CopyTo(new Span<byte>(address + 2, LibC.SockaddrUnSize - 2));
        return (uint)(2 + pathBytes.Length); // family + path + NUL
    }

    /// <summary>Creates a SOCK_STREAM|SOCK_CLOEXEC socket bound to <paramref name="path"/> and listening.</summary>
    /// <returns>The listening fd.</returns>
    /// <exception cref="IOException">socket, bind or listen failed (errno in the message and HResult).</exception>
    public static int CreateListener(string path, int backlog = 4)
    {
        byte[] pathBytes = EncodePath(path);
        int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw CreateIOException("socket", LibC.LastError);
        }

        byte* address = stackalloc byte[LibC.SockaddrUnSize];
        uint length = FillAddress(address, pathBytes);
        if (LibC.bind(fd, address, length) != 0)
        {
            int errno = LibC.LastError;
            FileDescriptors.Close(fd);
            throw CreateIOException($"bind({path})", errno);
        }

        if (LibC.listen(fd, backlog) != 0)
        {
            int errno = LibC.LastError;
            FileDescriptors.Close(fd);
            throw CreateIOException("listen", LibC.LastError == 0 ? errno : errno);
        }

        return fd;
    }

    /// <summary>Connects a new SOCK_CLOEXEC stream socket to <paramref name="path"/>.</summary>
    /// <param name="path">Socket path.</param>
    /// <param name="fd">The connected fd, or -1.</param>
    /// <returns>0, or the errno (ECONNREFUSED for a stale socket file, ENOENT when absent).</returns>
    public static int TryConnect(string path, out int fd)
    {
        byte[] pathBytes = EncodePath(path);
        fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            return LibC.LastError;
        }

        byte* address = stackalloc byte[LibC.SockaddrUnSize];
        uint length = FillAddress(address, pathBytes);
        int result;
        do
        {
            result = LibC.connect(fd, address, length);
        }
        while (result != 0 && LibC.LastError == LibC.EINTR);

        if (result != 0)
        {
            int errno = LibC.LastError;
            FileDescriptors.Close(fd);
            fd = -1;
            return errno;
        }

        return 0;
    }

    /// <summary>Accepts one connection (accept4 with SOCK_CLOEXEC).</summary>
    /// <returns>The fd, or -1 with the errno in <paramref name="errno"/>.</returns>
    public static int Accept(int listenFd, out int errno)
    {
        int fd;
        do
        {
            fd = LibC.accept4(listenFd, null, null, LibC.SOCK_CLOEXEC);
        }
        while (fd < 0 && LibC.LastError == LibC.EINTR);

        errno = fd < 0 ? LibC.LastError : 0;
        return fd;
    }

    /// <summary>Creates a connected AF_UNIX stream pair (SOCK_CLOEXEC), for tests and in-process front-ends.</summary>
    /// <exception cref="IOException">socketpair failed.</exception>
    public static (int First, int Second) CreatePair()
    {
        int* fds = stackalloc int[2];
        if (LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, fds) != 0)
        {
            throw CreateIOException("socketpair", LibC.LastError);
        }

        return (fds[0], fds[1]);
    }

    /// <summary>Sets SO_RCVTIMEO and SO_SNDTIMEO (0 = wait forever).</summary>
    /// <returns>0, or the errno.</returns>
    public static int SetTimeouts(int fd, TimeSpan receive, TimeSpan send)
    {
        LibC.TimeVal value = ToTimeVal(receive);
        if (LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, &value, (uint)sizeof(LibC.TimeVal)) != 0)
        {
            return LibC.LastError;
        }

        value = ToTimeVal(send);
        return LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_SNDTIMEO, &value, (uint)sizeof(LibC.TimeVal)) != 0 ? LibC.LastError : 0;
    }

    private static LibC.TimeVal ToTimeVal(TimeSpan span)
    {
        long micros = Math.Max(0, (long)(span.Ticks / 10));
        return new LibC.TimeVal { Seconds = micros / 1_000_000, Microseconds = micros % 1_000_000 };
    }

    /// <summary>
    /// Sends all of <paramref name="data"/>; <paramref name="fds"/> (at most <see cref="MaxFdsPerMessage"/>)
    /// travel with the first byte. Uses MSG_NOSIGNAL (a dead peer gives EPIPE, not SIGPIPE).
    /// </summary>
    /// <returns>0, or the errno.</returns>
    public static int Send(int fd, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds = default, int flags = 0)
    {
        if (fds.Length > MaxFdsPerMessage)
        {
            return LibC.EINVAL;
        }

        int controlLength = fds.IsEmpty ? 0 : LibC.CmsgSpace(fds.Length * sizeof(int));
        byte* control = stackalloc byte[LibC.CmsgSpace(MaxFdsPerMessage * sizeof(int))];
        if (!fds.IsEmpty)
        {
            new Span<byte>(control, controlLength).Clear();
            LibC.CmsgHdr* header = (LibC.CmsgHdr*)control;
            header->Length = (nuint)LibC.CmsgLen(fds.Length * sizeof(int));
            header->Level = LibC.SOL_SOCKET;
            header->Type = LibC.SCM_RIGHTS;
            fds.CopyTo(new Span<int>(control + LibC.CmsgLen(0), fds.Length));
        }

        fixed (byte* start = data)
        {
            int offset = 0;
            bool first = true;
            do
            {
                LibC.IoVec iov = new() { Base = start + offset, Length = (nuint)(data.Length - offset) };
                LibC.MsgHdr message = new()
                {
                    Iov = &iov,
                    IovLength = 1,
                    Control = first && controlLength != 0 ? control : null,
                    ControlLength = first ? (nuint)controlLength : 0,
                };
                nint sent = LibC.sendmsg(fd, &message, flags | LibC.MSG_NOSIGNAL);
                if (sent < 0)
                {
                    int errno = LibC.LastError;
                    if (errno == LibC.EINTR)
                    {
                        continue;
                    }

                    return errno;
                }

                first = false;
                offset += (int)sent;
            }
            while (offset < data.Length);
        }

        return 0;
    }

    /// <summary>
    /// One <c>recvmsg(MSG_CMSG_CLOEXEC)</c> into <paramref name="buffer"/>. Every SCM_RIGHTS control
    /// message is parsed; received fds go to <paramref name="fds"/> in order. fds beyond
    /// <paramref name="fds"/>' capacity are closed at once and reported as truncation, like
    /// MSG_CTRUNC (the kernel dropped some).
    /// </summary>
    /// <param name="fd">The socket.</param>
    /// <param name="buffer">Receives the bytes.</param>
    /// <param name="fds">Receives the fds.</param>
    /// <param name="fdCount">Number of fds stored in <paramref name="fds"/>.</param>
    /// <param name="truncated">Whether fds were lost or closed (MSG_CTRUNC or more than <paramref name="fds"/> holds).</param>
    /// <param name="flags">Extra recvmsg flags (for example MSG_DONTWAIT).</param>
    /// <returns>Bytes received (0 = orderly shutdown), or a negative errno.</returns>
    public static int Receive(int fd, Span<byte> buffer, Span<int> fds, out int fdCount, out bool truncated, int flags = 0)
    {
        fdCount = 0;
        truncated = false;
        int controlSize = LibC.CmsgSpace(MaxFdsPerMessage * sizeof(int));
        byte* control = stackalloc byte[controlSize];
        nint received;
        LibC.MsgHdr message;
        fixed (byte* start = buffer)
        {
            do
            {
                LibC.IoVec iov = new() { Base = start, Length = (nuint)buffer.Length };
                message = new LibC.MsgHdr
                {
                    Iov = &iov,
                    IovLength = 1,
                    Control = control,
                    ControlLength = (nuint)controlSize,
                };
                received = LibC.recvmsg(fd, &message, flags | LibC.MSG_CMSG_CLOEXEC);
            }
            while (received < 0 && LibC.LastError == LibC.EINTR);
        }

        if (received < 0)
        {
            return -LibC.LastError;
        }

        // Walk every cmsg (there can be several): CMSG_FIRSTHDR / CMSG_NXTHDR.
        nuint controlLength = message.ControlLength;
        nuint position = 0;
        int headerSize = LibC.CmsgLen(0);
        while (position + (nuint)headerSize <= controlLength)
        {
            LibC.CmsgHdr* header = (LibC.CmsgHdr*)(control + position);
            nuint length = header->Length;
            if (length < (nuint)headerSize || position + length > controlLength)
            {
                break;
            }

            if (header->Level == LibC.SOL_SOCKET && header->Type == LibC.SCM_RIGHTS)
            {
                int count = (int)((length - (nuint)headerSize) / sizeof(int));
                int* data = (int*)(control + position + (nuint)headerSize);
                for (int i = 0; i < count; i++)
                {
                    if (fdCount < fds.Length)
                    {
                        fds[fdCount++] = data[i];
                    }
                    else
                    {
                        FileDescriptors.Close(data[i]);
                        truncated = true;
                    }
                }
            }

            position += (nuint)LibC.CmsgAlign((int)length);
        }

        if ((message.Flags & LibC.MSG_CTRUNC) != 0)
        {
            truncated = true;
        }

        return (int)received;
    }
}
