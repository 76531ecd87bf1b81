// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VirtioGpio.Device;
using VirtioGpio.Transport.VhostUser.Internal;
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Transport.VhostUser;

/// <summary>
/// A vhost-user back-end that serves one <see cref="IVirtioDevice"/> on a Unix-domain socket
/// (qemu docs/interop/vhost-user.rst; VHOST-USER.md). It knows nothing about the device class.
/// </summary>
/// <remarks>
/// <para>One front-end connection is served at a time, on a dedicated thread running an epoll loop
/// over the socket and every kick eventfd. After a disconnect or a protocol error the next
/// connection is accepted; the device outlives connections (its queues are reset on disconnect,
/// the device itself is not), so line state survives a front-end reconnect.</para>
/// <para>Linux only (x86-64, arm64).</para>
/// </remarks>
/// <example>
/// <code>
/// await using var server = new VhostUserBackendServer("/tmp/vgpio.sock", device);
/// await server.RunAsync(cancellationToken); // until cancelled
/// </code>
/// </example>
public sealed class VhostUserBackendServer : IAsyncDisposable
{
    private readonly IVirtioDevice _device;
    private readonly VhostUserBackendOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposeCts = new();
    private readonly object _gate = new();
    private Task? _runTask;
    private VhostUserConnection? _current;
    private long _connectionCount;
    private int _disposed;

    /// <summary>Creates a server; nothing is bound until <see cref="RunAsync"/>.</summary>
    /// <param name="socketPath">The Unix socket path (at most 107 bytes).</param>
    /// <param name="device">The device to serve.</param>
    /// <param name="options">Options, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">Logging, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="socketPath"/> or <paramref name="device"/> is null.</exception>
    /// <exception cref="ArgumentException">The path is empty or too long, or an option is out of range.</exception>
    /// <exception cref="PlatformNotSupportedException">Not running on Linux.</exception>
    public VhostUserBackendServer(string socketPath, IVirtioDevice device, VhostUserBackendOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(socketPath);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("vhost-user needs Linux (SCM_RIGHTS, memfd, eventfd, epoll).");
        }

        _ = UnixSocket.EncodePath(socketPath);
        _options = options ?? new VhostUserBackendOptions();
        _options.Validate();
        SocketPath = socketPath;
        _device = device;
        _logger = (ILogger?)loggerFactory?.CreateLogger<VhostUserBackendServer>() ?? NullLogger.Instance;
    }

    /// <summary>The socket path.</summary>
    public string SocketPath { get; }

    /// <summary>The device being served.</summary>
    public IVirtioDevice Device => _device;

    /// <summary>Number of front-end connections accepted so far (every one after the first is a reconnect).</summary>
    public long ConnectionCount => Interlocked.Read(ref _connectionCount);

    /// <summary>Whether a front-end is connected now.</summary>
    public bool IsConnected => Volatile.Read(ref _current) is not null;

    /// <summary>Raised on the server thread when a front-end connected. Handlers must not block.</summary>
    public event EventHandler? Connected;

    /// <summary>Raised on the server thread when a front-end disconnected (or was disconnected after a protocol error).</summary>
    public event EventHandler? Disconnected;

    /// <summary>
    /// Binds and listens, then serves front-end connections one at a time until
    /// <paramref name="cancellationToken"/> is cancelled or the server is disposed. The socket
    /// file is removed on exit. Completes normally on cancellation.
    /// </summary>
    /// <param name="cancellationToken">Stops the server.</param>
    /// <returns>A task that completes when the server stopped; it faults when the socket cannot be bound.</returns>
    /// <exception cref="InvalidOperationException">Already running.</exception>
    /// <remarks>The returned task faults with <see cref="VhostUserSocketInUseException"/> when a live
    /// process serves the path, or with an <see cref="IOException"/> when the path exists and is not
    /// a socket or cannot be bound. A stale socket file (nobody listening) is removed first.</remarks>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_gate)
        {
            if (_runTask is not null)
            {
                throw new InvalidOperationException("The server is already running.");
            }

            int listenFd;
            try
            {
                PrepareSocketPath();
                listenFd = UnixSocket.CreateListener(SocketPath, _options.ListenBacklog);
            }
            catch (Exception ex) when (ex is IOException or ArgumentException)
            {
                _runTask = Task.FromException(ex);
                return _runTask;
            }

            Log.Listening(_logger, SocketPath);
            var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposeCts.Token);
            var thread = new Thread(() =>
            {
                try
                {
                    Serve(listenFd, linked.Token);
                    completion.TrySetResult();
                }
                catch (Exception ex)
                {
                    completion.TrySetException(ex);
                }
                finally
                {
                    linked.Dispose();
                }
            })
            {
                IsBackground = true,
                Name = "vhost-user " + Path.GetFileName(SocketPath),
            };
            thread.Start();
            _runTask = completion.Task;
            return _runTask;
        }
    }

    /// <summary>Stops serving, waits for the server thread and removes the socket file.</summary>
    /// <returns>A task that completes when everything is released.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposeCts.CancelAsync().ConfigureAwait(false);
        Task? run;
        lock (_gate)
        {
            run = _runTask;
        }

        if (run is not null)
        {
            try
            {
                await run.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or OperationCanceledException)
            {
                // Already reported through RunAsync's task.
            }
        }

        _disposeCts.Dispose();
    }

    /// <summary>Refuses a path served by a live process; removes a stale socket file.</summary>
    private void PrepareSocketPath()
    {
        int errno = FileDescriptors.TryGetPathMode(SocketPath, out int mode);
        if (errno == LibC.ENOENT)
        {
            return;
        }

        if (errno != 0)
        {
            throw UnixSocket.CreateIOException($"lstat({SocketPath})", errno);
        }

        if ((mode & LibC.S_IFMT) != LibC.S_IFSOCK)
        {
            throw new IOException($"{SocketPath} exists and is not a socket; refusing to replace it.");
        }

        errno = UnixSocket.TryConnect(SocketPath, out int probe);
        if (errno == 0)
        {
            FileDescriptors.Close(probe);
            throw new VhostUserSocketInUseException(SocketPath, reserved: true);
        }

        if (errno != LibC.ECONNREFUSED)
        {
            throw UnixSocket.CreateIOException($"connect({SocketPath})", errno);
        }

        File.Delete(SocketPath);
        Log.RemovedStaleSocket(_logger, SocketPath);
    }

    private unsafe void Serve(int listenFd, CancellationToken cancellationToken)
    {
        int cancelFd = EventFd.Create();
        CancellationTokenRegistration registration = cancellationToken.Register(() =>
        {
            EventFd.Signal(cancelFd);
            Volatile.Read(ref _current)?.RequestStop();
        });
        try
        {
            LibC.PollFd* fds = stackalloc LibC.PollFd[2];
            while (!cancellationToken.IsCancellationRequested)
            {
                fds[0] = new LibC.PollFd { Fd = listenFd, Events = LibC.POLLIN };
                fds[1] = new LibC.PollFd { Fd = cancelFd, Events = LibC.POLLIN };
                int ready = LibC.poll(fds, 2, -1);
                if (ready < 0)
                {
                    int pollErrno = LibC.LastError;
                    if (pollErrno == LibC.EINTR)
                    {
                        continue;
                    }

                    throw UnixSocket.CreateIOException("poll", pollErrno);
                }

                if ((fds[1].ReturnedEvents & LibC.POLLIN) != 0 || cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                if ((fds[0].ReturnedEvents & LibC.POLLIN) == 0)
                {
                    continue;
                }

                int fd = UnixSocket.Accept(listenFd, out int errno);
                if (fd < 0)
                {
                    if (errno is LibC.EMFILE or LibC.ENOMEM)
                    {
                        // Out of fds or memory: back off instead of spinning.
                        Log.AcceptFailed(_logger, UnixSocket.CreateIOException("accept4", errno));
                        Thread.Sleep(100);
                    }

                    continue;
                }

                ServeConnection(fd, cancellationToken);
            }
        }
        finally
        {
            registration.Dispose();
            FileDescriptors.Close(cancelFd);
            FileDescriptors.Close(listenFd);
            try
            {
                File.Delete(SocketPath);
            }
            catch (IOException)
            {
                // The file may already be gone or replaced; nothing else to release.
            }
            catch (UnauthorizedAccessException)
            {
                // Same: best effort.
            }
        }
    }

    private void ServeConnection(int fd, CancellationToken cancellationToken)
    {
        VhostUserConnection connection;
        try
        {
            connection = new VhostUserConnection(fd, _device, _options, _logger);
        }
        catch (IOException ex)
        {
            FileDescriptors.Close(fd);
            Log.ConnectionFailed(_logger, ex);
            return;
        }

        long number = Interlocked.Increment(ref _connectionCount);
        VhostUserMetrics.Connections.Add(1);
        Volatile.Write(ref _current, connection);
        if (cancellationToken.IsCancellationRequested)
        {
            connection.RequestStop();
        }

        Log.FrontendConnected(_logger, number);
        Raise(Connected);
        try
        {
            connection.Run();
        }
        finally
        {
            Volatile.Write(ref _current, null);
            Log.FrontendDisconnected(_logger, number, connection.CloseReason);
            Raise(Disconnected);
        }
    }

    private void Raise(EventHandler? handler)
    {
        try
        {
            handler?.Invoke(this, EventArgs.Empty);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A subscriber's bug must not stop the server.
            Log.ConnectionFailed(_logger, ex);
        }
    }

    /// <summary>Whether this runtime can host the back-end.</summary>
    internal static bool IsSupportedPlatform
        => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;
}
