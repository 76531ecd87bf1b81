// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using VirtioGpio.Daemon.Cli;
using VirtioGpio.Daemon.Control;
using VirtioGpio.Daemon.Diagnostics;
using VirtioGpio.Device;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Transport.VhostUser;

namespace VirtioGpio.Daemon.Hosting;

/// <summary>
/// Runs the daemon: checks every path, creates one device + simulated lines + vhost-user server per <c>--socket</c>,
/// the control socket and the VCD traces, then serves until SIGINT/SIGTERM and shuts down cleanly (sockets removed,
/// traces flushed, exit 0). User errors at start-up surface as <see cref="DaemonUsageException"/> after everything
/// already created has been cleaned up.
/// </summary>
internal sealed class DaemonHost
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private readonly DaemonOptions _options;
    private readonly List<DeviceInstance> _devices = [];
    private readonly ControlEventHub _hub = new();
    private ILoggerFactory _loggerFactory = null!;
    private ILogger _logger = null!;
    private DaemonMetrics? _metrics;
    private ControlServer? _control;
    private bool _started;

    private DaemonHost(DaemonOptions options)
    {
        _options = options;
    }

    /// <summary>Runs the daemon until <paramref name="cancellationToken"/>, SIGINT or SIGTERM.</summary>
    /// <param name="options">Validated options.</param>
    /// <param name="cancellationToken">Stops the daemon.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="DaemonUsageException">A path cannot be served (after cleanup).</exception>
    public static Task<int> RunAsync(DaemonOptions options, CancellationToken cancellationToken)
        => new DaemonHost(options).RunCoreAsync(cancellationToken);

    private async Task<int> RunCoreAsync(CancellationToken cancellationToken)
    {
        _loggerFactory = CreateLoggerFactory(_options.LogLevel);
        _logger = _loggerFactory.CreateLogger("VirtioGpio.Daemon");
        _metrics = new DaemonMetrics();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => OnSignal(ctx, stop));
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => OnSignal(ctx, stop));
        try
        {
            Start(stop.Token);
            await WaitForListenersAsync(stop.Token).ConfigureAwait(false);
            return await ServeAsync(stop.Token).ConfigureAwait(false);
        }
        catch (DaemonUsageException)
        {
            throw;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Signal during start-up: still a clean stop.
            return DaemonExitCodes.Success;
        }
        catch (Exception ex)
        {
            DaemonLog.Unexpected(_logger, ex);
            return DaemonExitCodes.Failure;
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await ShutdownAsync().ConfigureAwait(false);
            if (_started)
            {
                DaemonLog.Stopped(_logger);
            }

            _metrics.Dispose();
            _loggerFactory.Dispose();
        }
    }

    private void OnSignal(PosixSignalContext context, CancellationTokenSource stop)
    {
        // VHOST-USER.md §1: "exit promptly and cleanly on SIGTERM".
        context.Cancel = true;
        DaemonLog.Signal(_logger, context.Signal.ToString());
        try
        {
            stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already stopped.
        }
    }

    private void Start(CancellationToken cancellationToken)
    {
        // 1. Every socket path first, so a bad one fails before anything is created.
        foreach (string path in _options.SocketPaths)
        {
            UnixSocketPath.PrepareForBind(path, "--socket");
        }

        // 2. Lines, device and server per socket.
        string dialect = DaemonOptions.DialectName(_options.Dialect);
        for (int i = 0; i < _options.SocketPaths.Count; i++)
        {
            string path = _options.SocketPaths[i];
            var lines = new SimulatedGpioLineBackend(_options.LineNames);
            var control = new ControlledDevice(i, lines, path, dialect, _hub);
            var instance = new DeviceInstance(i, path, lines, control);
            _devices.Add(instance);
            IVirtioDevice device = DeviceWiring.CreateDevice(_options, lines, control, _loggerFactory);
            instance.Device = device;
            if (device.ConfigSize > DaemonOptions.VhostUserMaxConfigSize)
            {
                // DRAFT.md §2.3: QEMU's vhost-user path caps the config space at 256 bytes.
                throw new DaemonUsageException(
                    $"the device config space would be {device.ConfigSize} bytes; vhost-user allows at most {DaemonOptions.VhostUserMaxConfigSize} (use fewer or shorter --names)");
            }

        }

        // 3. Traces.
        foreach (DeviceInstance instance in _devices)
        {
            string? tracePath = _options.TracePathFor(instance.Index);
            if (tracePath is not null)
            {
                instance.Trace = OpenTrace(instance.Lines, tracePath);
            }
        }

        // 4. Control socket.
        if (_options.ControlPath is not null)
        {
            var handler = new ControlProtocolHandler([.. _devices.Select(d => d.Control)], _hub, TimeProvider.System, _metrics);
            _control = ControlServer.Start(_options.ControlPath, handler, _hub, _loggerFactory.CreateLogger("VirtioGpio.Daemon.Control"), _metrics);
        }

        // Every user error above exits 2 with one stderr line and nothing else; from here on, log.
        _started = true;
        foreach (DeviceInstance instance in _devices)
        {
            DaemonLog.DeviceCreated(_logger, instance.Index, dialect, _options.DeviceId, _options.LineCount, _options.QueueSize, _options.Dialect == DaemonDialect.Draft ? "n/a" : _options.NoIrq ? "off" : "on");
            if (_options.Dialect == DaemonDialect.Draft && instance.Device is IVirtioDevice draft)
            {
                DaemonLog.DraftConfig(_logger, instance.Index, draft.ConfigSize, _options.DeviceId);
            }
            if (_options.TracePathFor(instance.Index) is string tracePath)
            {
                DaemonLog.Tracing(_logger, instance.Index, tracePath);
            }
        }

        if (_control is not null)
        {
            DaemonLog.ControlListening(_logger, _control.Path);
        }

        // 5. vhost-user servers.
        foreach (DeviceInstance instance in _devices)
        {
            VhostUserBackendServer server = DeviceWiring.CreateServer(instance.SocketPath, instance.Device!, _options, _loggerFactory);
            instance.Server = server;
            server.Connected += (_, _) => OnConnected(instance);
            server.Disconnected += (_, _) => OnDisconnected(instance);
            instance.RunTask = Task.Run(() => server.RunAsync(cancellationToken), CancellationToken.None);
        }
    }

    private static VcdTraceWriter OpenTrace(SimulatedGpioLineBackend lines, string path)
    {
        StreamWriter writer;
        try
        {
            var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
            writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\n" };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new DaemonUsageException($"--trace {path}: cannot write: {ex.Message}", ex);
        }

        return VcdTraceWriter.Attach(lines, writer);
    }

    private async Task WaitForListenersAsync(CancellationToken cancellationToken)
    {
        // "listening on PATH" once per socket, when it accepts connections; a server that fails to bind is a user error.
        foreach (DeviceInstance instance in _devices)
        {
            Task run = instance.RunTask!;
            DateTime deadline = DateTime.UtcNow + StartTimeout;
            while (!UnixSocketPath.IsListening(instance.SocketPath))
            {
                if (run.IsCompleted)
                {
                    await ThrowStartFailureAsync(instance, run).ConfigureAwait(false);
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new DaemonUsageException($"--socket {instance.SocketPath}: the server did not start listening within {StartTimeout.TotalSeconds} s");
                }

                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }

            instance.Listening = true;
            DaemonLog.Listening(_logger, instance.SocketPath);
        }
    }

    private static async Task ThrowStartFailureAsync(DeviceInstance instance, Task run)
    {
        try
        {
            await run.ConfigureAwait(false);
        }
        catch (VhostUserSocketInUseException ex)
        {
            throw new DaemonUsageException($"--socket {instance.SocketPath}: already served by a live process ({DaemonOptions.OneLine(ex.Message)})", ex);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            throw new DaemonUsageException($"--socket {instance.SocketPath}: {DaemonOptions.OneLine(ex.Message)}", ex);
        }

        throw new DaemonUsageException($"--socket {instance.SocketPath}: the server stopped before listening");
    }

    private async Task<int> ServeAsync(CancellationToken cancellationToken)
    {
        Task stopped = Task.Delay(Timeout.Infinite, cancellationToken);
        Task[] watched = [stopped, .. _devices.Select(d => d.RunTask!)];
        Task first = await Task.WhenAny(watched).ConfigureAwait(false);
        if (first == stopped || cancellationToken.IsCancellationRequested)
        {
            // A server may finish its cancellation before the delay task does: both mean "stop".
            return DaemonExitCodes.Success;
        }

        DeviceInstance failed = _devices.First(d => d.RunTask == first);
        if (first.Exception?.GetBaseException() is Exception ex)
        {
            DaemonLog.ServerFailed(_logger, failed.Index, failed.SocketPath, ex);
        }
        else
        {
            DaemonLog.ServerFailed(_logger, failed.Index, failed.SocketPath, new InvalidOperationException("The server stopped unexpectedly."));
        }

        return DaemonExitCodes.Failure;
    }

    private void OnConnected(DeviceInstance instance)
    {
        bool reconnect = instance.CountConnection();
        _metrics?.FrontendConnected(instance.Index, reconnect);
        DaemonLog.FrontendConnected(_logger, instance.Index, instance.SocketPath);
        instance.Control.SetConnected(true);
    }

    private void OnDisconnected(DeviceInstance instance)
    {
        _metrics?.FrontendDisconnected(instance.Index);
        DaemonLog.FrontendDisconnected(_logger, instance.Index, instance.SocketPath);
        instance.Control.SetConnected(false);
    }

    private async Task ShutdownAsync()
    {
        // Servers first (they stop touching guest memory and remove their sockets), then the control socket, then traces.
        foreach (DeviceInstance instance in _devices)
        {
            if (instance.RunTask is Task run)
            {
                await run.WaitAsync(StopTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            if (instance.Server is VhostUserBackendServer server)
            {
                try
                {
                    await server.DisposeAsync().AsTask().WaitAsync(StopTimeout).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    DaemonLog.ServerFailed(_logger, instance.Index, instance.SocketPath, ex);
                }
            }

            // The server removes its socket on exit; make sure, but only remove a socket our server was seen listening on.
            if (instance.Listening && UnixSocketPath.TryRemove(instance.SocketPath) is Exception removeFailure)
            {
                DaemonLog.RemoveFailed(_logger, instance.SocketPath, removeFailure);
            }
        }

        if (_control is not null)
        {
            await _control.DisposeAsync().ConfigureAwait(false);
        }

        foreach (DeviceInstance instance in _devices)
        {
            instance.Trace?.Dispose(); // flushes and closes the file
            instance.Control.Dispose();
            (instance.Device as IDisposable)?.Dispose();
            instance.Lines.Dispose();
        }
    }

    private static ILoggerFactory CreateLoggerFactory(LogLevel level) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(level);
        builder.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });

        // stdout stays clean (--print-capabilities, help); every log line goes to stderr.
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    });
}
