// SPDX-License-Identifier: MIT
using System.Globalization;

namespace VirtioGpio.Device.Gpio;

/// <summary>
/// Records line activity as a Value Change Dump (IEEE 1364 §18 "Value change dump (VCD) files") that GTKWave and
/// other waveform viewers open: one 1-bit wire per line, named after the line, with a value change for every edge,
/// whether the guest drove it or host stimulus caused it.
/// </summary>
/// <remarks>
/// <para>Format: <c>$date</c>, <c>$version</c>, <c>$timescale 1 ns</c>, <c>$scope module gpio</c>, one
/// <c>$var wire 1 &lt;id&gt; &lt;name&gt; $end</c> per line, <c>$upscope</c>, <c>$enddefinitions</c>, then
/// <c>#0 $dumpvars</c> with the initial levels and <c>#&lt;ns&gt;</c> blocks of changes. Times are nanoseconds since
/// the start time; they never decrease (an out-of-order timestamp is written at the last time). Line names are made
/// VCD-safe: whitespace becomes <c>_</c>, an unnamed line is called <c>line&lt;n&gt;</c>, and a name that would
/// collide gets <c>_&lt;n&gt;</c> appended.</para>
/// <para>Thread-safe: records may arrive from any thread; each is written whole under one lock. Output is buffered
/// by the <see cref="TextWriter"/>; call <see cref="Flush"/> (or set <see cref="AutoFlush"/>) to see it.</para>
/// </remarks>
/// <example>
/// <code>
/// using var lines = new SimulatedGpioLineBackend(8);
/// using var vcd = VcdTraceWriter.Attach(lines, File.CreateText("gpio.vcd"));
/// lines.Pulse(3);
/// vcd.Flush();   // open gpio.vcd in GTKWave
/// </code>
/// </example>
public sealed class VcdTraceWriter : IDisposable
{
    private const string Scope = "gpio";

    private readonly object _gate = new();
    private readonly TextWriter _writer;
    private readonly bool _leaveOpen;
    private readonly string[] _ids;
    private readonly string[] _references;
    private readonly LineValue[] _levels;
    private readonly DateTimeOffset _start;
    private SimulatedGpioLineBackend? _backend;
    private EventHandler<GpioLineChange>? _handler;
    private long _snapshotSequence;
    private long _lastTime;
    private bool _disposed;

    /// <summary>Creates a writer and writes the VCD header and initial values at once.</summary>
    /// <param name="writer">Where the VCD text goes.</param>
    /// <param name="lineNames">One name per line (empty = unnamed).</param>
    /// <param name="initialLevels">The level of every line at <paramref name="startTime"/>; all low when <see langword="null"/>.</param>
    /// <param name="startTime">Time zero of the dump.</param>
    /// <param name="leaveOpen">Whether <see cref="Dispose"/> leaves <paramref name="writer"/> open.</param>
    /// <exception cref="ArgumentNullException"><paramref name="writer"/> or <paramref name="lineNames"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="lineNames"/> is empty, or <paramref name="initialLevels"/> has a different count.</exception>
    public VcdTraceWriter(TextWriter writer, IReadOnlyList<string> lineNames, IReadOnlyList<LineValue>? initialLevels, DateTimeOffset startTime, bool leaveOpen = false)
    {
        if (writer is null)
        {
            throw new ArgumentNullException(nameof(writer));
        }

        if (lineNames is null)
        {
            throw new ArgumentNullException(nameof(lineNames));
        }

        if (lineNames.Count == 0)
        {
            throw new ArgumentException("At least one line is required.", nameof(lineNames));
        }

        if (initialLevels is not null && initialLevels.Count != lineNames.Count)
        {
            throw new ArgumentException("One initial level per line is required.", nameof(initialLevels));
        }

        _writer = writer;
        _leaveOpen = leaveOpen;
        _start = startTime;
        int n = lineNames.Count;
        _ids = new string[n];
        _references = new string[n];
        _levels = new LineValue[n];
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            _ids[i] = IdentifierCode(i);
            string reference = Sanitize(lineNames[i], i);
            if (!used.Add(reference))
            {
                reference = reference + "_" + i.ToString(CultureInfo.InvariantCulture);
                used.Add(reference);
            }

            _references[i] = reference;
            _levels[i] = initialLevels is null ? LineValue.Low : initialLevels[i];
        }

        WriteHeader();
    }

    /// <summary>Whether every record is flushed to the underlying writer at once.</summary>
    public bool AutoFlush { get; set; }

    /// <summary>The VCD identifier code of each line's wire.</summary>
    public IReadOnlyList<string> IdentifierCodes => _ids;

    /// <summary>The VCD reference name of each line's wire.</summary>
    public IReadOnlyList<string> ReferenceNames => _references;

    /// <summary>
    /// Creates a writer for <paramref name="backend"/>: the header uses its names, the initial values are its current
    /// levels, time zero is its clock's now, and every later edge of any line (guest-driven or host stimulus) is recorded
    /// until <see cref="Dispose"/>. Subscription and snapshot are atomic: no change is lost or doubled.
    /// </summary>
    /// <param name="backend">The simulated lines.</param>
    /// <param name="writer">Where the VCD text goes.</param>
    /// <param name="leaveOpen">Whether <see cref="Dispose"/> leaves <paramref name="writer"/> open.</param>
    /// <returns>The attached writer.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static VcdTraceWriter Attach(SimulatedGpioLineBackend backend, TextWriter writer, bool leaveOpen = false)
    {
        if (backend is null)
        {
            throw new ArgumentNullException(nameof(backend));
        }

        if (writer is null)
        {
            throw new ArgumentNullException(nameof(writer));
        }

        VcdTraceWriter? vcd = null;
        var pending = new List<GpioLineChange>();
        EventHandler<GpioLineChange> handler = (_, change) =>
        {
            VcdTraceWriter? target = Volatile.Read(ref vcd);
            if (target is null)
            {
                lock (pending)
                {
                    target = Volatile.Read(ref vcd);
                    if (target is null)
                    {
                        pending.Add(change);
                        return;
                    }
                }
            }

            target.OnBackendChange(change);
        };

        backend.SubscribeWithSnapshot(handler, out LineValue[] levels, out long sequence, out DateTimeOffset now);
        var created = new VcdTraceWriter(writer, backend.Names, levels, now, leaveOpen)
        {
            _backend = backend,
            _handler = handler,
            _snapshotSequence = sequence,
        };
        lock (pending)
        {
            Volatile.Write(ref vcd, created);
            foreach (GpioLineChange change in pending)
            {
                created.OnBackendChange(change);
            }
        }

        return created;
    }

    /// <summary>Records a change; only changes of the effective level (<see cref="GpioLineChange.IsEdge"/>) are written.</summary>
    /// <param name="change">The change.</param>
    /// <exception cref="ArgumentOutOfRangeException">The change's line is outside the dump.</exception>
    public void Record(in GpioLineChange change)
    {
        if (change.IsEdge)
        {
            Record(change.LineNumber, change.NewValue, change.Timestamp);
        }
    }

    /// <summary>Records the level of a line at a time. A level equal to the last one written is skipped.</summary>
    /// <param name="lineNumber">The line.</param>
    /// <param name="level">The new level.</param>
    /// <param name="timestamp">When; times before the last written time are written at the last time.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineNumber"/> is outside the dump.</exception>
    public void Record(int lineNumber, LineValue level, DateTimeOffset timestamp)
    {
        if (unchecked((uint)lineNumber) >= (uint)_ids.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(lineNumber), lineNumber, $"Expected 0..{_ids.Length - 1}.");
        }

        lock (_gate)
        {
            if (_disposed || _levels[lineNumber] == level)
            {
                return;
            }

            _levels[lineNumber] = level;
            long time = (timestamp - _start).Ticks * 100; // 100 ns ticks → ns
            if (time > _lastTime)
            {
                _lastTime = time;
                _writer.Write('#');
                _writer.Write(time.ToString(CultureInfo.InvariantCulture));
                _writer.Write('\n');
            }

            _writer.Write(level.IsHigh ? '1' : '0');
            _writer.Write(_ids[lineNumber]);
            _writer.Write('\n');
            if (AutoFlush)
            {
                _writer.Flush();
            }
        }
    }

    /// <summary>Flushes the underlying writer.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _writer.Flush();
            }
        }
    }

    /// <summary>Stops recording, flushes, and closes the writer unless it was opened with <c>leaveOpen</c>.</summary>
    public void Dispose()
    {
        SimulatedGpioLineBackend? backend;
        EventHandler<GpioLineChange>? handler;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            backend = _backend;
            handler = _handler;
            _backend = null;
            _handler = null;
            _writer.Flush();
            if (!_leaveOpen)
            {
                _writer.Dispose();
            }
        }

        if (backend is not null && handler is not null)
        {
            backend.LineChanged -= handler;
        }
    }

    private static string IdentifierCode(int index)
    {
        // Printable ASCII '!' (33) .. '~' (126): base-94 digits, least significant first.
        var chars = new List<char>(2);
        int value = index;
        do
        {
            chars.Add((char)('!' + (value % 94)));
            value /= 94;
        }
        while (value > 0);
        return new string(chars.ToArray());
    }

    private static string Sanitize(string? name, int index)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "line" + index.ToString(CultureInfo.InvariantCulture);
        }

        char[] chars = name!.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (chars[i] <= ' ' || chars[i] >= 0x7F)
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    private void OnBackendChange(GpioLineChange change)
    {
        if (change.SequenceNumber > _snapshotSequence)
        {
            Record(change);
        }
    }

    private void WriteHeader()
    {
        var w = _writer;
        w.Write("$date\n\t" + _start.ToString("O", CultureInfo.InvariantCulture) + "\n$end\n");
        w.Write("$version\n\tVirtioGpio VcdTraceWriter\n$end\n");
        w.Write("$timescale 1 ns $end\n");
        w.Write("$scope module " + Scope + " $end\n");
        for (int i = 0; i < _ids.Length; i++)
        {
            w.Write("$var wire 1 " + _ids[i] + " " + _references[i] + " $end\n");
        }

        w.Write("$upscope $end\n$enddefinitions $end\n#0\n$dumpvars\n");
        for (int i = 0; i < _ids.Length; i++)
        {
            w.Write((_levels[i].IsHigh ? "1" : "0") + _ids[i] + "\n");
        }

        w.Write("$end\n");
    }
}
