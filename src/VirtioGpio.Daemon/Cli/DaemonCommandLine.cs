// SPDX-License-Identifier: MIT
using System.CommandLine;
using System.CommandLine.Parsing;

namespace VirtioGpio.Daemon.Cli;

/// <summary>
/// The <c>virtio-gpio</c> command line (System.CommandLine 2.0). Parse errors and validation failures print one line
/// <c>virtio-gpio: error: …</c> to stderr and return <see cref="DaemonExitCodes.UsageError"/>.
/// </summary>
internal sealed class DaemonCommandLine
{
    /// <summary>What <c>--print-capabilities</c> prints (VHOST-USER.md §1 "Backend program conventions", schema <c>vhost-user.json</c>).</summary>
    public const string CapabilitiesJson = "{\"type\":\"gpio\",\"features\":[]}";

    private readonly Option<string[]> _socket = new("--socket", "--socket-path")
    {
        Description = "vhost-user socket path to listen on; repeat for several devices in one process",
        HelpName = "PATH",
    };

    private readonly Option<int> _lines = new("--lines")
    {
        Description = "number of unnamed lines (default 8; standard 1..65535, draft 1..256)",
        HelpName = "N",
    };

    private readonly Option<string> _names = new("--names")
    {
        Description = "comma-separated line names, one per line (empty = unnamed), e.g. LED0,,BTN1; implies the line count",
        HelpName = "a,b,c",
    };

    private readonly Option<string> _dialect = new("--dialect")
    {
        Description = "device protocol: standard (VIRTIO 1.3 GPIO, ID 41) or draft (2020 draft, ID 30)",
        HelpName = "standard|draft",
    };

    private readonly Option<long> _deviceId = new("--device-id")
    {
        Description = "virtio device ID to offer (default 41 standard, 30 draft)",
        HelpName = "N",
    };

    private readonly Option<int> _queueSize = new("--queue-size")
    {
        Description = "largest ring size accepted from the front-end, a power of two 2..32768 (default 1024)",
        HelpName = "N",
    };

    private readonly Option<bool> _noIrq = new("--no-irq")
    {
        Description = "do not offer VIRTIO_GPIO_F_IRQ (standard dialect: no eventq, no interrupts)",
    };

    private readonly Option<string> _control = new("--control")
    {
        Description = "JSON-lines control socket (list/get/set/pulse/subscribe), see docs/control-protocol.md",
        HelpName = "PATH",
    };

    private readonly Option<string> _trace = new("--trace")
    {
        Description = "record all line activity as a VCD file (device i > 0 writes NAME.i.vcd)",
        HelpName = "FILE.vcd",
    };

    private readonly Option<string> _logLevel = new("--log-level")
    {
        Description = "trace|debug|information|warning|error|critical|none (default information)",
        HelpName = "LEVEL",
    };

    private readonly Option<bool> _printCapabilities = new("--print-capabilities")
    {
        Description = "print the vhost-user back-end capabilities as JSON and exit",
    };

    private readonly Func<DaemonOptions, CancellationToken, Task<int>> _run;

    /// <summary>Creates the command line.</summary>
    /// <param name="run">Runs the daemon with validated options; may throw <see cref="DaemonUsageException"/> for start-up user errors.</param>
    public DaemonCommandLine(Func<DaemonOptions, CancellationToken, Task<int>> run)
    {
        _run = run;
        Root = new RootCommand("vhost-user virtio-gpio back-end with simulated lines, a JSON-lines control socket and VCD tracing.")
        {
            _socket, _lines, _names, _dialect, _deviceId, _queueSize, _noIrq, _control, _trace, _logLevel, _printCapabilities,
        };
        Root.SetAction(InvokeActionAsync);
    }

    /// <summary>The root command.</summary>
    public RootCommand Root { get; }

    /// <summary>Where one-line errors and help go; defaults to the console.</summary>
    public TextWriter Error { get; init; } = Console.Error;

    /// <summary>Where <c>--print-capabilities</c> and help go; defaults to the console.</summary>
    public TextWriter Output { get; init; } = Console.Out;

    /// <summary>Parses <paramref name="args"/> and runs the daemon.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="cancellationToken">Stops the daemon (signals are handled by the daemon itself).</param>
    /// <returns>The process exit code.</returns>
    public async Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken = default)
    {
        ParseResult result = Root.Parse(args);
        if (result.Errors.Count > 0)
        {
            ParseError first = result.Errors[0];
            return Fail(first.Message);
        }

        var configuration = new InvocationConfiguration
        {
            // The daemon registers SIGINT/SIGTERM itself (PosixSignalRegistration) to shut down cleanly and exit 0.
            ProcessTerminationTimeout = null,
            EnableDefaultExceptionHandler = false,
            Output = Output,
            Error = Error,
        };
        return await result.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Validates the parsed values into options.</summary>
    /// <param name="result">A parse result without errors.</param>
    /// <returns>The options.</returns>
    /// <exception cref="DaemonUsageException">A value or combination is invalid.</exception>
    public DaemonOptions ToOptions(ParseResult result) => DaemonOptions.Create(
        result.GetValue(_socket),
        result.GetResult(_lines) is null ? null : result.GetValue(_lines),
        result.GetResult(_names) is null ? null : result.GetValue(_names),
        result.GetValue(_dialect),
        result.GetResult(_deviceId) is null ? null : result.GetValue(_deviceId),
        result.GetResult(_queueSize) is null ? null : result.GetValue(_queueSize),
        result.GetValue(_noIrq),
        result.GetValue(_control),
        result.GetValue(_trace),
        result.GetValue(_logLevel));

    private async Task<int> InvokeActionAsync(ParseResult result, CancellationToken cancellationToken)
    {
        if (result.GetValue(_printCapabilities))
        {
            await Output.WriteLineAsync(CapabilitiesJson).ConfigureAwait(false);
            await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            return DaemonExitCodes.Success;
        }

        try
        {
            DaemonOptions options = ToOptions(result);
            return await _run(options, cancellationToken).ConfigureAwait(false);
        }
        catch (DaemonUsageException ex)
        {
            return Fail(ex.Message);
        }
    }

    private int Fail(string message)
    {
        Error.WriteLine("virtio-gpio: error: " + DaemonOptions.OneLine(message));
        Error.Flush();
        return DaemonExitCodes.UsageError;
    }
}
