// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser.Interop;

/// <summary>Small helpers over raw file descriptors (close, CLOEXEC, O_NONBLOCK, fstat size, process fd count).</summary>
internal static unsafe class FileDescriptors
{
    /// <summary>Closes <paramref name="fd"/> when it is not negative (EINTR is not retried: Linux always releases the fd).</summary>
    public static void Close(int fd)
    {
        if (fd >= 0)
        {
            _ = LibC.close(fd);
        }
    }

    /// <summary>Closes every fd in <paramref name="fds"/> and overwrites each entry with -1.</summary>
    public static void CloseAll(Span<int> fds)
    {
        for (int i = 0; i < fds.Length; i++)
        {
            Close(fds[i]);
            fds[i] = -1;
        }
    }

    /// <summary>Atomically replaces <paramref name="slot"/> with <paramref name="newFd"/> and closes the previous fd.</summary>
    public static void Replace(ref int slot, int newFd)
    {
        int old = Interlocked.Exchange(ref slot, newFd);
        if (old != newFd)
        {
            Close(old);
        }
    }

    /// <summary>Whether FD_CLOEXEC is set on <paramref name="fd"/> (false when the fd is invalid).</summary>
    public static bool IsCloseOnExec(int fd)
    {
        int flags = LibC.fcntl(fd, LibC.F_GETFD, 0);
        return flags >= 0 && (flags & LibC.FD_CLOEXEC) != 0;
    }

    /// <summary>Whether <paramref name="fd"/> refers to an open file description.</summary>
    public static bool IsOpen(int fd) => fd >= 0 && LibC.fcntl(fd, LibC.F_GETFD, 0) >= 0;

    /// <summary>Sets or clears O_NONBLOCK.</summary>
    /// <returns>0, or the errno.</returns>
    public static int SetNonBlocking(int fd, bool nonBlocking)
    {
        int flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        if (flags < 0)
        {
            return LibC.LastError;
        }

        int wanted = nonBlocking ? flags | LibC.O_NONBLOCK : flags & ~LibC.O_NONBLOCK;
        return wanted == flags || LibC.fcntl(fd, LibC.F_SETFL, wanted) >= 0 ? 0 : LibC.LastError;
    }

    /// <summary>The size of the file behind <paramref name="fd"/> (<c>fstat().st_size</c>).</summary>
    /// <returns>0, or the errno.</returns>
    public static int TryGetFileSize(int fd, out long size)
    {
        byte* buffer = stackalloc byte[LibC.StatBufferSize];
        if (LibC.fstat(fd, buffer) != 0)
        {
            size = 0;
            return LibC.LastError;
        }

        size = *(long*)(buffer + LibC.StatSizeOffset);
        return 0;
    }

    /// <summary>The <c>st_mode</c> of <paramref name="path"/> without following a final symlink.</summary>
    /// <returns>0, or the errno (ENOENT when the path does not exist).</returns>
    public static int TryGetPathMode(string path, out int mode)
    {
        mode = 0;
        byte[] bytes = UnixSocket.EncodePath(path, allowLong: true);
        byte* buffer = stackalloc byte[LibC.StatBufferSize];
        fixed (byte* p = bytes)
        {
            if (LibC.lstat(p, buffer) != 0)
            {
                return LibC.LastError;
            }
        }

        mode = *(int*)(buffer + LibC.StatModeOffset);
        return 0;
    }

    /// <summary>Number of open fds of this process (entries of /proc/self/fd), for leak tests.</summary>
    public static int CountOpen() => Directory.GetFileSystemEntries("/proc/self/fd").Length;
}
