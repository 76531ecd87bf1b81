// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Daemon.Cli;

/// <summary>The daemon's validated settings. Build them with <see cref="Create"/>, which rejects every bad combination with a one-line <see cref="DaemonUsageException"/>.</summary>
internal sealed class DaemonOptions
{
    /// <summary>Default number of lines when neither <c>--lines</c> nor <c>--names</c> is given.</summary>
    public const int DefaultLineCount = 8;

    /// <summary>Default maximum ring size accepted from the front-end (VHOST-USER.md §12.3: QEMU uses up to 1024).</summary>
    public const int DefaultQueueSize = 1024;

    /// <summary>Largest ring size a split virtqueue may have (VIRTIO 1.3 §2.7 "Split Virtqueues": Queue Size ≤ 32768).</summary>
    public const int MaxQueueSize = 32768;

    /// <summary>Standard device ID (VIRTIO 1.3 §5 "Device Types": 41 = GPIO).</summary>
    public const uint StandardDeviceId = 41;

    /// <summary>Default draft device ID (DRAFT.md §1).</summary>
    public const uint DraftDefaultDeviceId = 30;

    /// <summary>Most lines a standard device can have (le16 ngpio, STANDARD.md §3).</summary>
    public const int StandardMaxLines = ushort.MaxValue;

    /// <summary>Most lines a draft device may have (DRAFT.md §0 rule 8: 1 ≤ num_gpios ≤ 256).</summary>
    public const int DraftMaxLines = 256;

    /// <summary>QEMU's vhost-user config-space cap (DRAFT.md §2.3, VHOST-USER.md §7).</summary>
    public const int VhostUserMaxConfigSize = 256;

    /// <summary>Size of the draft config header before the names block (DRAFT.md §2.1).</summary>
    public const int DraftConfigHeaderSize = 0x40;

    /// <summary>Longest AF_UNIX path (sun_path is 108 bytes including the terminator).</summary>
    public const int MaxUnixSocketPathBytes = 107;

    private DaemonOptions(
        IReadOnlyList<string> socketPaths,
        GpioLineNames lineNames,
        DaemonDialect dialect,
        uint deviceId,
        int queueSize,
        bool noIrq,
        string? controlPath,
        string? tracePath,
        LogLevel logLevel)
    {
        SocketPaths = socketPaths;
        LineNames = lineNames;
        Dialect = dialect;
        DeviceId = deviceId;
        QueueSize = queueSize;
        NoIrq = noIrq;
        ControlPath = controlPath;
        TracePath = tracePath;
        LogLevel = logLevel;
    }

    /// <summary>Full paths of the vhost-user sockets, one device each, in <c>--socket</c> order.</summary>
    public IReadOnlyList<string> SocketPaths { get; }

    /// <summary>The lines of every device (its count is the line count; unnamed lines have "").</summary>
    public GpioLineNames LineNames { get; }

    /// <summary>The number of lines of every device.</summary>
    public int LineCount => LineNames.Count;

    /// <summary>The device protocol.</summary>
    public DaemonDialect Dialect { get; }

    /// <summary>The virtio device ID offered.</summary>
    public uint DeviceId { get; }

    /// <summary>The largest ring size accepted from the front-end.</summary>
    public int QueueSize { get; }

    /// <summary>Whether the standard device withholds VIRTIO_GPIO_F_IRQ (no eventq interrupts).</summary>
    public bool NoIrq { get; }

    /// <summary>Full path of the JSON-lines control socket, or <see langword="null"/>.</summary>
    public string? ControlPath { get; }

    /// <summary>Full path of the VCD trace file, or <see langword="null"/>.</summary>
    public string? TracePath { get; }

    /// <summary>Minimum log level.</summary>
    public LogLevel LogLevel { get; }

    /// <summary>Validates raw command-line values.</summary>
    /// <param name="socketPaths">Every <c>--socket</c> value.</param>
    /// <param name="lines"><c>--lines</c>, or <see langword="null"/> when absent.</param>
    /// <param name="names"><c>--names</c>, or <see langword="null"/> when absent.</param>
    /// <param name="dialect"><c>--dialect</c> (standard|draft), or <see langword="null"/> for standard.</param>
    /// <param name="deviceId"><c>--device-id</c>, or <see langword="null"/> for the dialect's default.</param>
    /// <param name="queueSize"><c>--queue-size</c>, or <see langword="null"/> for 1024.</param>
    /// <param name="noIrq"><c>--no-irq</c>.</param>
    /// <param name="controlPath"><c>--control</c>, or <see langword="null"/>.</param>
    /// <param name="tracePath"><c>--trace</c>, or <see langword="null"/>.</param>
    /// <param name="logLevel"><c>--log-level</c>, or <see langword="null"/> for information.</param>
    /// <returns>The validated options.</returns>
    /// <exception cref="DaemonUsageException">A value or combination is invalid.</exception>
    public static DaemonOptions Create(
        IReadOnlyList<string>? socketPaths,
        int? lines,
        string? names,
        string? dialect,
        long? deviceId,
        int? queueSize,
        bool noIrq,
        string? controlPath,
        string? tracePath,
        string? logLevel)
    {
        if (socketPaths is null || socketPaths.Count == 0)
        {
            throw new DaemonUsageException("--socket PATH is required (repeat it to serve several devices)");
        }

        DaemonDialect parsedDialect = ParseDialect(dialect);
        int maxLines = parsedDialect == DaemonDialect.Draft ? DraftMaxLines : StandardMaxLines;

        var fullSockets = new List<string>(socketPaths.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string socket in socketPaths)
        {
            string full = FullPath(socket, "--socket");
            CheckUnixPathLength(full, "--socket");
            if (!seen.Add(full))
            {
                throw new DaemonUsageException($"--socket {socket} is given twice");
            }

            fullSockets.Add(full);
        }

        if (lines is not null && names is not null)
        {
            throw new DaemonUsageException("--lines and --names are mutually exclusive (--names implies the line count)");
        }

        GpioLineNames lineNames;
        if (names is not null)
        {
            lineNames = ParseNames(names, maxLines, parsedDialect);
        }
        else
        {
            int count = lines ?? DefaultLineCount;
            if (count < 1 || count > maxLines)
            {
                throw new DaemonUsageException(
                    $"--lines {count.ToString(CultureInfo.InvariantCulture)} is out of range: the {DialectName(parsedDialect)} dialect allows 1..{maxLines.ToString(CultureInfo.InvariantCulture)}");
            }

            lineNames = GpioLineNames.CreateUnnamed(count);
        }

        uint id = parsedDialect == DaemonDialect.Draft ? DraftDefaultDeviceId : StandardDeviceId;
        if (deviceId is not null)
        {
            if (deviceId < 1 || deviceId > uint.MaxValue)
            {
                throw new DaemonUsageException($"--device-id {deviceId.Value.ToString(CultureInfo.InvariantCulture)} is out of range (1..{uint.MaxValue.ToString(CultureInfo.InvariantCulture)})");
            }

            id = (uint)deviceId.Value;
            if (parsedDialect == DaemonDialect.Standard && id != StandardDeviceId)
            {
                throw new DaemonUsageException(
                    $"--device-id {id.ToString(CultureInfo.InvariantCulture)} needs --dialect draft: the standard GPIO device is always ID 41 (VIRTIO 1.3 §5 \"Device Types\")");
            }
        }

        int qsize = queueSize ?? DefaultQueueSize;
        if (qsize < 2 || qsize > MaxQueueSize || (qsize & (qsize - 1)) != 0)
        {
            throw new DaemonUsageException($"--queue-size {qsize.ToString(CultureInfo.InvariantCulture)} must be a power of two in 2..{MaxQueueSize.ToString(CultureInfo.InvariantCulture)}");
        }

        string? control = null;
        if (controlPath is not null)
        {
            control = FullPath(controlPath, "--control");
            CheckUnixPathLength(control, "--control");
            if (seen.Contains(control))
            {
                throw new DaemonUsageException($"--control {controlPath} is also a --socket path");
            }
        }

        string? trace = null;
        if (tracePath is not null)
        {
            trace = FullPath(tracePath, "--trace");
            if (seen.Contains(trace) || string.Equals(trace, control, StringComparison.Ordinal))
            {
                throw new DaemonUsageException($"--trace {tracePath} is also a socket path");
            }
        }

        return new DaemonOptions(fullSockets, lineNames, parsedDialect, id, qsize, noIrq, control, trace, ParseLogLevel(logLevel));
    }

    /// <summary>The VCD file of device <paramref name="deviceIndex"/>: the <c>--trace</c> path for device 0, <c>NAME.&lt;i&gt;.vcd</c> for the others.</summary>
    /// <param name="deviceIndex">The device.</param>
    /// <returns>The path, or <see langword="null"/> without <c>--trace</c>.</returns>
    public string? TracePathFor(int deviceIndex)
    {
        if (TracePath is null || deviceIndex == 0)
        {
            return TracePath;
        }

        string directory = Path.GetDirectoryName(TracePath) ?? string.Empty;
        string extension = Path.GetExtension(TracePath);
        string stem = Path.GetFileNameWithoutExtension(TracePath);
        return Path.Combine(directory, stem + "." + deviceIndex.ToString(CultureInfo.InvariantCulture) + extension);
    }

    internal static string DialectName(DaemonDialect dialect) => dialect == DaemonDialect.Draft ? "draft" : "standard";

    private static DaemonDialect ParseDialect(string? dialect) => dialect switch
    {
        null or "standard" => DaemonDialect.Standard,
        "draft" => DaemonDialect.Draft,
        _ => throw new DaemonUsageException($"--dialect {dialect} is not one of: standard, draft"),
    };

    private static LogLevel ParseLogLevel(string? level) => level switch
    {
        null or "information" or "info" => LogLevel.Information,
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "critical" => LogLevel.Critical,
        "none" => LogLevel.None,
        _ => throw new DaemonUsageException($"--log-level {level} is not one of: trace, debug, information, warning, error, critical, none"),
    };

    private static GpioLineNames ParseNames(string names, int maxLines, DaemonDialect dialect)
    {
        // "a,,c" names lines 0 and 2; line 1 is unnamed (STANDARD.md §5, DRAFT.md §2.4).
        string[] parts = names.Split(',');
        if (parts.Length > maxLines)
        {
            throw new DaemonUsageException(
                $"--names gives {parts.Length.ToString(CultureInfo.InvariantCulture)} lines: the {DialectName(dialect)} dialect allows 1..{maxLines.ToString(CultureInfo.InvariantCulture)}");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string part in parts)
        {
            foreach (char c in part)
            {
                // STANDARD.md §5: bytes < 0x80, no NUL; control characters would corrupt logs and VCD files.
                if (c >= 0x80 || char.IsControl(c))
                {
                    throw new DaemonUsageException($"--names: line name \"{Printable(part)}\" must be printable 7-bit ASCII");
                }
            }

            if (part.Length != 0 && !seen.Add(part))
            {
                throw new DaemonUsageException($"--names: duplicate line name \"{part}\"");
            }
        }

        GpioLineNames result;
        try
        {
            result = new GpioLineNames(parts);
        }
        catch (ArgumentException ex)
        {
            throw new DaemonUsageException("--names: " + OneLine(ex.Message), ex);
        }

        // DRAFT.md §2.3: the whole config (0x40 + names_size) must fit QEMU's 256-byte vhost-user config.
        if (dialect == DaemonDialect.Draft && result.HasAnyName && DraftConfigHeaderSize + result.BlockSize > VhostUserMaxConfigSize)
        {
            throw new DaemonUsageException(
                $"--names: the draft config would be {(DraftConfigHeaderSize + result.BlockSize).ToString(CultureInfo.InvariantCulture)} bytes; vhost-user allows at most {VhostUserMaxConfigSize.ToString(CultureInfo.InvariantCulture)} (names block ≤ 192 bytes)");
        }

        return result;
    }

    private static string FullPath(string path, string option)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new DaemonUsageException($"{option} needs a non-empty path");
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new DaemonUsageException($"{option} path contains a NUL character");
        }

        try
        {
            return Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new DaemonUsageException($"{option} {path}: {OneLine(ex.Message)}", ex);
        }
    }

    private static void CheckUnixPathLength(string fullPath, string option)
    {
        int bytes = Encoding.UTF8.GetByteCount(fullPath);
        if (bytes > MaxUnixSocketPathBytes)
        {
            throw new DaemonUsageException(
                $"{option} {fullPath}: a Unix socket path may have at most {MaxUnixSocketPathBytes.ToString(CultureInfo.InvariantCulture)} bytes, this one has {bytes.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static string Printable(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            sb.Append(c < 0x20 || c == 0x7f ? '?' : c);
        }

        return sb.ToString();
    }

    internal static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
