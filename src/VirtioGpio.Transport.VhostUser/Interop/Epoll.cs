// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace VirtioGpio.Transport.VhostUser.Interop;

/// <summary>
/// A small epoll set (EPOLL_CLOEXEC) whose entries carry a 64-bit token. Handles the x86-64
/// packed <c>struct epoll_event</c> layout. Not thread-safe except <see cref="Add"/>/<see cref="Remove"/>,
/// which the kernel serialises.
/// </summary>
internal sealed unsafe class Epoll : IDisposable
{
    private readonly byte[] _events;
    private int _fd;

    /// <summary>Creates the epoll fd.</summary>
    /// <param name="capacity">Events returned per wait.</param>
    /// <exception cref="IOException">epoll_create1 failed.</exception>
    public Epoll(int capacity = 16)
    {
        _fd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (_fd < 0)
        {
            throw UnixSocket.CreateIOException("epoll_create1", LibC.LastError);
        }

        _events = new byte[capacity * LibC.EpollEventSize];
    }

    /// <summary>The epoll fd.</summary>
    public int Fd => _fd;

    /// <summary>Watches <paramref name="fd"/> for input (EPOLLIN; errors and hang-ups are always reported).</summary>
    /// <returns>0, or the errno.</returns>
    public int Add(int fd, ulong token) => Control(LibC.EPOLL_CTL_ADD, fd, token);

    /// <summary>Stops watching <paramref name="fd"/> (call before closing it).</summary>
    /// <returns>0, or the errno.</returns>
    public int Remove(int fd) => Control(LibC.EPOLL_CTL_DEL, fd, 0);

    private int Control(int operation, int fd, ulong token)
    {
        byte* ev = stackalloc byte[16];
        new Span<byte>(ev, 16).Clear();
        *(uint*)ev = LibC.EPOLLIN;
        *(ulong*)(ev + LibC.EpollDataOffset) = token;
        return LibC.epoll_ctl(_fd, operation, fd, ev) == 0 ? 0 : LibC.LastError;
    }

    /// <summary>Waits for events and copies (token, events) of each into the spans.</summary>
    /// <param name="timeoutMilliseconds">-1 = forever.</param>
    /// <param name="tokens">Receives the tokens.</param>
    /// <param name="eventMasks">Receives the event masks.</param>
    /// <returns>The number of events (0 on timeout or EINTR), or a negative errno.</returns>
    public int Wait(int timeoutMilliseconds, Span<ulong> tokens, Span<uint> eventMasks)
    {
        int max = Math.Min(Math.Min(tokens.Length, eventMasks.Length), _events.Length / LibC.EpollEventSize);
        int count;
        fixed (byte* buffer = _events)
        {
            count = LibC.epoll_wait(_fd, buffer, max, timeoutMilliseconds);
        }

        if (count < 0)
        {
            int errno = LibC.LastError;
            return errno == LibC.EINTR ? 0 : -errno;
        }

        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> ev = _events.AsSpan(i * LibC.EpollEventSize, LibC.EpollEventSize);
            eventMasks[i] = BinaryPrimitives.ReadUInt32LittleEndian(ev);
            tokens[i] = BinaryPrimitives.ReadUInt64LittleEndian(ev.Slice(LibC.EpollDataOffset));
        }

        return count;
    }

    /// <summary>Closes the epoll fd. Idempotent.</summary>
    public void Dispose() => FileDescriptors.Close(Interlocked.Exchange(ref _fd, -1));
}
