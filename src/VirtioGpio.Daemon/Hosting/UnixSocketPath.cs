// SPDX-License-Identifier: MIT
using System.Net.Sockets;
using System.Runtime.InteropServices;
using VirtioGpio.Daemon.Cli;

namespace VirtioGpio.Daemon.Hosting;

/// <summary>
/// Start-up checks of a Unix socket path, turning every user error into a one-line <see cref="DaemonUsageException"/>:
/// the directory must exist and be writable, a live listener on the path is refused, a stale socket file (no
/// listener) is removed, and a file that is not a socket is never replaced.
/// </summary>
internal static partial class UnixSocketPath
{
    private const int ORdOnly = 0;
    private const int ONoctty = 0x100;     // Linux generic ABI (x86-64, arm64)
    private const int ONonblock = 0x800;
    private const int OCloexec = 0x80000;
    private const int ENXIO = 6;           // open() of a socket file
    private const int ENOENT = 2;

    /// <summary>What is at a path.</summary>
    internal enum Kind
    {
        Missing,
        Socket,
        Other,
    }

    /// <summary>Makes <paramref name="path"/> ready for <c>bind</c>: refuses a live listener or a non-socket file, removes a stale socket, and proves the directory is writable by binding and removing a probe socket.</summary>
    /// <param name="path">Full socket path.</param>
    /// <param name="option">The option name for messages (--socket, --control).</param>
    /// <exception cref="DaemonUsageException">The path cannot be served.</exception>
    public static void PrepareForBind(string path, string option)
    {
        string? directory = Path.GetDirectoryName(path);
        if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory))
        {
            throw new DaemonUsageException($"{option} {path}: directory {directory} does not exist");
        }

        switch (Probe(path))
        {
            case Kind.Socket:
                if (IsLive(path))
                {
                    throw new DaemonUsageException($"{option} {path}: already served by a live process");
                }

                TryDelete(path, option);
                break;
            case Kind.Other:
                throw new DaemonUsageException($"{option} {path}: exists and is not a socket; refusing to replace it");
        }

        // Writability: bind a socket on the path itself, then remove it again.
        try
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            probe.Bind(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException ex)
        {
            throw new DaemonUsageException($"{option} {path}: cannot create a socket there: {ex.Message}", ex);
        }

        TryDelete(path, option);
    }

    /// <summary>Binds and listens on <paramref name="path"/> after <see cref="PrepareForBind"/>.</summary>
    /// <param name="path">Full socket path.</param>
    /// <param name="option">The option name for messages.</param>
    /// <returns>The listening socket.</returns>
    /// <exception cref="DaemonUsageException">The path cannot be served.</exception>
    public static Socket Listen(string path, string option)
    {
        PrepareForBind(path, option);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(16);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new DaemonUsageException($"{option} {path}: cannot listen: {ex.Message}", ex);
        }
    }

    /// <summary>What is at <paramref name="path"/> (without following the risk of blocking on a FIFO).</summary>
    /// <param name="path">The path.</param>
    /// <returns>The kind.</returns>
    public static Kind Probe(string path)
    {
        int fd = Open(path, ORdOnly | ONonblock | ONoctty | OCloexec);
        if (fd >= 0)
        {
            _ = Close(fd);
            return Kind.Other;
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            ENXIO => Kind.Socket,
            ENOENT => Kind.Missing,
            _ => File.Exists(path) || Directory.Exists(path) ? Kind.Other : Kind.Missing,
        };
    }

    /// <summary>
    /// Whether a socket bound to <paramref name="path"/> is in the listening state, without connecting to it (a probe
    /// connection would look like a front-end). Reads <c>/proc/net/unix</c> (flag <c>__SO_ACCEPTCON</c> = 0x10000);
    /// where that file is unreadable, a socket file counts as listening.
    /// </summary>
    /// <param name="path">Full socket path.</param>
    /// <returns><see langword="true"/> when listening.</returns>
    public static bool IsListening(string path)
    {
        if (Probe(path) != Kind.Socket)
        {
            return false;
        }

        string[] table;
        try
        {
            table = File.ReadAllLines("/proc/net/unix");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return true;
        }

        // "Num RefCount Protocol Flags Type St Inode Path"
        foreach (string row in table)
        {
            if (!row.EndsWith(" " + path, StringComparison.Ordinal))
            {
                continue;
            }

            string[] fields = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 8 && uint.TryParse(fields[3], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out uint flags) && (flags & 0x10000) != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a process accepts connections on <paramref name="path"/>.</summary>
    /// <param name="path">The path.</param>
    /// <returns><see langword="true"/> when a connect succeeds.</returns>
    public static bool IsLive(string path)
    {
        try
        {
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            client.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Removes a socket file; missing is fine.</summary>
    /// <param name="path">The path.</param>
    /// <returns>The failure, or <see langword="null"/>.</returns>
    public static Exception? TryRemove(string path)
    {
        try
        {
            if (Probe(path) == Kind.Socket)
            {
                File.Delete(path);
            }

            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex;
        }
    }

    private static void TryDelete(string path, string option)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DaemonUsageException($"{option} {path}: cannot remove the stale socket: {ex.Message}", ex);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
