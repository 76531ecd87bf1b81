// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser.Interop;

/// <summary>eventfd helpers: the kick, call and err notifications of vhost-user are 8-byte writes whose value has no meaning.</summary>
internal static unsafe class EventFd
{
    /// <summary>Creates an eventfd with EFD_CLOEXEC | EFD_NONBLOCK.</summary>
    /// <returns>The fd.</returns>
    /// <exception cref="IOException">eventfd failed.</exception>
    public static int Create()
    {
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (fd < 0)
        {
            throw UnixSocket.CreateIOException("eventfd", LibC.LastError);
        }

        return fd;
    }

    /// <summary>Adds 1 to the counter (an 8-byte write). Never blocks on an EFD_NONBLOCK eventfd.</summary>
    /// <returns><see langword="true"/> when the write succeeded.</returns>
    public static bool Signal(int fd)
    {
        ulong one = 1;
        nint written;
        do
        {
            written = LibC.write(fd, &one, sizeof(ulong));
        }
        while (written < 0 && LibC.LastError == LibC.EINTR);

        return written == sizeof(ulong);
    }

    /// <summary>Reads and resets the counter (an 8-byte read). Only call when the fd is readable or non-blocking.</summary>
    /// <param name="fd">The eventfd.</param>
    /// <param name="value">The counter value read, or 0.</param>
    /// <returns><see langword="true"/> when a value was read.</returns>
    public static bool TryDrain(int fd, out ulong value)
    {
        ulong buffer = 0;
        nint read;
        do
        {
            read = LibC.read(fd, &buffer, sizeof(ulong));
        }
        while (read < 0 && LibC.LastError == LibC.EINTR);

        value = read == sizeof(ulong) ? buffer : 0;
        return read == sizeof(ulong);
    }

    /// <summary>Waits until <paramref name="fd"/> is readable (poll), then drains it.</summary>
    /// <param name="fd">The eventfd.</param>
    /// <param name="timeoutMilliseconds">Timeout; -1 waits forever.</param>
    /// <returns><see langword="true"/> when the eventfd was signalled within the timeout.</returns>
    public static bool Wait(int fd, int timeoutMilliseconds)
    {
        LibC.PollFd pollFd = new() { Fd = fd, Events = LibC.POLLIN };
        int result;
        do
        {
            result = LibC.poll(&pollFd, 1, timeoutMilliseconds);
        }
        while (result < 0 && LibC.LastError == LibC.EINTR);

        return result > 0 && (pollFd.ReturnedEvents & LibC.POLLIN) != 0 && TryDrain(fd, out _);
    }
}
