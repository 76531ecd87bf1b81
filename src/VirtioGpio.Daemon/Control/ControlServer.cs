// SPDX-License-Identifier: MIT
using System.Buffers;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VirtioGpio.Daemon.Diagnostics;
using VirtioGpio.Daemon.Hosting;

namespace VirtioGpio.Daemon.Control;

/// <summary>
/// The JSON-lines control socket (<c>--control PATH</c>): a Unix stream socket serving any number of clients at once,
/// each with its own read loop (requests handled in order) and write loop (responses and subscribed events).
/// Disposing stops accepting, closes every client, and removes the socket file.
/// </summary>
internal sealed class ControlServer : IAsyncDisposable
{
    /// <summary>Longest request line accepted; a longer one is answered with an error and skipped.</summary>
    public const int MaxRequestBytes = 64 * 1024;

    private readonly Socket _listener;
    private readonly ControlProtocolHandler _handler;
    private readonly ControlEventHub _hub;
    private readonly ILogger _logger;
    private readonly DaemonMetrics? _metrics;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly HashSet<Task> _clients = [];
    private Task? _acceptLoop;
    private long _nextClientId;
    private int _disposed;

    private ControlServer(string path, Socket listener, ControlProtocolHandler handler, ControlEventHub hub, ILogger logger, DaemonMetrics? metrics)
    {
        Path = path;
        _listener = listener;
        _handler = handler;
        _hub = hub;
        _logger = logger;
        _metrics = metrics;
    }

    /// <summary>The socket path.</summary>
    public string Path { get; }

    /// <summary>Binds the control socket and starts accepting clients.</summary>
    /// <param name="path">Full socket path.</param>
    /// <param name="handler">Executes requests.</param>
    /// <param name="hub">Where subscriptions live (sessions are removed from it when they end).</param>
    /// <param name="logger">Logger.</param>
    /// <param name="metrics">Counters, optional.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="Cli.DaemonUsageException">The path is in use or cannot be created.</exception>
    public static ControlServer Start(string path, ControlProtocolHandler handler, ControlEventHub hub, ILogger? logger = null, DaemonMetrics? metrics = null)
    {
        Socket listener = UnixSocketPath.Listen(path, "--control");
        var server = new ControlServer(path, listener, handler, hub, logger ?? NullLogger.Instance, metrics);
        server._acceptLoop = Task.Run(server.AcceptLoopAsync);
        return server;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        Task[] clients;
        lock (_gate)
        {
            clients = [.. _clients];
        }

        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (UnixSocketPath.TryRemove(Path) is Exception ex)
        {
            DaemonLog.RemoveFailed(_logger, Path, ex);
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            long id = Interlocked.Increment(ref _nextClientId);
            Task task = ServeClientAsync(client, id);
            lock (_gate)
            {
                _clients.Add(task);
            }

            _ = task.ContinueWith(
                t =>
                {
                    lock (_gate)
                    {
                        _clients.Remove(t);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private async Task ServeClientAsync(Socket socket, long id)
    {
        await Task.Yield();
        var session = new ControlSession(id);
        session.EventDropped += (_, _) =>
        {
            _metrics?.ControlEventDropped();
            DaemonLog.ControlEventsDropped(_logger, id);
        };
        _metrics?.ControlClientConnected();
        DaemonLog.ControlClientConnected(_logger, id);
        using var clientStop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        Task writer = WriteLoopAsync(socket, session, clientStop.Token);
        try
        {
            await ReadLoopAsync(socket, session, clientStop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            DaemonLog.ControlClientFailed(_logger, id, ex);
        }
        catch (OperationCanceledException)
        {
            // Server stopping.
        }
        finally
        {
            _hub.Remove(session);
            session.Complete();

            // Let the writer send the queued responses, unless the server is stopping or the peer is gone.
            await writer.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await clientStop.CancelAsync().ConfigureAwait(false);
            await writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            socket.Dispose();
            _metrics?.ControlClientDisconnected();
            DaemonLog.ControlClientDisconnected(_logger, id);
        }
    }

    private async Task ReadLoopAsync(Socket socket, ControlSession session, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var line = new ArrayBufferWriter<byte>(1024);
        bool skipping = false;
        try
        {
            while (true)
            {
                int read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    // EOF: a final line without '\n' still counts as a request.
                    if (!skipping && line.WrittenCount > 0)
                    {
                        await HandleLineAsync(line.WrittenMemory, session, cancellationToken).ConfigureAwait(false);
                    }

                    return;
                }

                int start = 0;
                while (start < read)
                {
                    int newline = Array.IndexOf(buffer, (byte)'\n', start, read - start);
                    int end = newline < 0 ? read : newline;
                    if (!skipping)
                    {
                        if (line.WrittenCount + (end - start) > MaxRequestBytes)
                        {
                            _handler.RejectOversized(session, MaxRequestBytes);
                            line.Clear();
                            skipping = true;
                        }
                        else
                        {
                            line.Write(buffer.AsSpan(start, end - start));
                        }
                    }

                    if (newline < 0)
                    {
                        break;
                    }

                    if (!skipping)
                    {
                        await HandleLineAsync(line.WrittenMemory, session, cancellationToken).ConfigureAwait(false);
                    }

                    line.Clear();
                    skipping = false;
                    start = newline + 1;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask HandleLineAsync(ReadOnlyMemory<byte> line, ControlSession session, CancellationToken cancellationToken)
    {
        // Blank lines (and a trailing '\r' from socat CRLF) are ignored rather than answered.
        ReadOnlyMemory<byte> trimmed = line;
        while (trimmed.Length > 0 && trimmed.Span[^1] is (byte)'\r' or (byte)' ' or (byte)'\t')
        {
            trimmed = trimmed[..^1];
        }

        if (trimmed.Span.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0)
        {
            return;
        }

        // Backpressure: a client that sends requests without reading the answers stops being read.
        while (session.PendingResponses > ControlSession.MaxPendingResponses && !session.IsCompleted)
        {
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }

        (string command, bool ok) = await _handler.HandleAsync(trimmed, session, cancellationToken).ConfigureAwait(false);
        DaemonLog.ControlRequest(_logger, session.Id, command, ok);
    }

    private static async Task WriteLoopAsync(Socket socket, ControlSession session, CancellationToken cancellationToken)
    {
        try
        {
            while (await session.Outgoing.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (session.Outgoing.TryRead(out ControlOutgoingLine line))
                {
                    session.OnDequeued(line);
                    int sent = 0;
                    while (sent < line.Bytes.Length)
                    {
                        sent += await socket.SendAsync(line.Bytes.AsMemory(sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away or the server is stopping; the read loop ends the session.
            session.Complete();
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception inner) when (inner is SocketException or ObjectDisposedException)
            {
                // Already closed.
            }
        }
    }
}
