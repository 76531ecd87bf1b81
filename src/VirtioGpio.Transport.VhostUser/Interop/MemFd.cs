// SPDX-License-Identifier: MIT
using System.Text;

namespace VirtioGpio.Transport.VhostUser.Interop;

/// <summary>memfd helpers: anonymous shared memory that travels as an fd (guest RAM in tests, the inflight region).</summary>
internal static unsafe class MemFd
{
    /// <summary>Creates a memfd (MFD_CLOEXEC) of <paramref name="size"/> bytes, zero-filled.</summary>
    /// <param name="name">A debugging name (shows in /proc/PID/fd).</param>
    /// <param name="size">The size in bytes.</param>
    /// <returns>The fd.</returns>
    /// <exception cref="IOException">memfd_create or ftruncate failed.</exception>
    public static int Create(string name, long size)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(name + "\0");
        int fd;
        fixed (byte* p = bytes)
        {
            fd = LibC.memfd_create(p, LibC.MFD_CLOEXEC);
        }

        if (fd < 0)
        {
            throw UnixSocket.CreateIOException("memfd_create", LibC.LastError);
        }

        if (LibC.ftruncate(fd, size) != 0)
        {
            int errno = LibC.LastError;
            FileDescriptors.Close(fd);
            throw UnixSocket.CreateIOException("ftruncate", errno);
        }

        return fd;
    }
}
