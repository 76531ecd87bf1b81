// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// In-process GPIO lines: the embedded default backend for demos, tests and tools. The guest (through the device)
/// drives directions and outputs; host code sets input levels with <see cref="SetInputLevel(int, LineValue)"/>,
/// <see cref="Pulse(int)"/> and <see cref="Toggle(int)"/>, reads any line, and observes every change through
/// <see cref="LineChanged"/> (see also <see cref="VcdTraceWriter"/>).
/// </summary>
/// <remarks>
/// <para><b>Line model.</b> Each line has a direction (initially <see cref="GpioDirection.None"/>), an output latch
/// (the value the guest last wrote, driven while the direction is <see cref="GpioDirection.Output"/>), a host input
/// level (initially low) and the IRQ type the guest configured. The effective level (<see cref="Read(int)"/>,
/// <see cref="GetLevel(int)"/>) is the output latch for outputs and the input level otherwise.</para>
/// <para><b>Host stimulus on a guest output.</b> Setting the input level of a line the guest drives as an output is
/// recorded (a <see cref="GpioLineChange"/> with <see cref="GpioLineChange.Applied"/> = <see langword="false"/>) and
/// remembered as the input level, but it does not change the driven level and does not reach the device's sink.
/// When the guest later makes the line an input, it senses that remembered level (no event is sent for that
/// guest-caused switch; the device reads the level itself).</para>
/// <para><b>Threading and ordering.</b> Thread-safe: one internal lock guards the state. Every change gets a
/// per-backend sequence number and a timestamp from the <see cref="TimeProvider"/> under that lock, and is delivered
/// afterwards, outside the lock, one at a time in sequence order: to <see cref="LineChanged"/> handlers, and, for
/// applied host stimulus, to the device's <see cref="IGpioLineEventSink"/>. So per line (and across lines) both see
/// changes in the order they happened. Delivery runs on the thread that made the change, or on a thread that is
/// already delivering earlier changes. Exception: stimulus raised from inside a device-originated call (for example a
/// <see cref="LineChanged"/> handler that loops an output back to an input while the device writes that output) is
/// delivered to the sink from the thread pool, so the device is never re-entered from its own call; it still keeps
/// its order.</para>
/// <para><see cref="LineChanged"/> handlers must not block; they may call this backend.</para>
/// </remarks>
/// <example>
/// <code>
/// using var lines = new SimulatedGpioLineBackend(new GpioLineNames(new[] { "LED", "BUTTON" }));
/// lines.LineChanged += (_, c) =&gt; Console.WriteLine(c);
/// // ... attach to a device; the guest drives LED ...
/// lines.Pulse(1);                       // BUTTON: low → high → low (two edges)
/// LineValue led = lines.GetLevel(0);
/// </code>
/// </example>
public sealed class SimulatedGpioLineBackend : GpioLineBackend
{
    [ThreadStatic]
    private static int t_deviceCallDepth;

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly GpioLineNames _names;
    private readonly GpioDirection[] _direction;
    private readonly LineValue[] _outputLatch;
    private readonly LineValue[] _inputLevel;
    private readonly GpioIrqType[] _irqType;

    // The level each line shows (the driven value for outputs, the host input otherwise), published
    // after every change made under _gate so the device's GET_VALUE path reads it without the lock.
    private readonly byte[] _effective;
    private readonly Queue<GpioLineChange> _observerQueue = new();
    private readonly Queue<GpioLineChange> _sinkQueue = new();
    private bool _observerDraining;
    private bool _sinkDraining;
    private long _sequence;

    /// <summary>Creates <paramref name="lineCount"/> unnamed lines.</summary>
    /// <param name="lineCount">Number of lines, 1..65535.</param>
    /// <param name="timeProvider">Clock for change timestamps; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineCount"/> is out of range.</exception>
    public SimulatedGpioLineBackend(int lineCount, TimeProvider? timeProvider = null)
        : this(CreateNames(lineCount), timeProvider)
    {
    }

    /// <summary>Creates one line per entry of <paramref name="names"/>.</summary>
    /// <param name="names">The line names (their count is the line count, at least 1).</param>
    /// <param name="timeProvider">Clock for change timestamps; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="names"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="names"/> is empty.</exception>
    public SimulatedGpioLineBackend(GpioLineNames names, TimeProvider? timeProvider = null)
    {
        if (names is null)
        {
            throw new ArgumentNullException(nameof(names));
        }

        if (names.Count == 0)
        {
            throw new ArgumentException("At least one line is required.", nameof(names));
        }

        _names = names;
        _time = timeProvider ?? TimeProvider.System;
        int n = names.Count;
        _direction = new GpioDirection[n];
        _outputLatch = new LineValue[n];
        _inputLevel = new LineValue[n];
        _irqType = new GpioIrqType[n];
        _effective = new byte[n];
    }

    /// <summary>
    /// Raised for every change: guest changes of direction, driven level or IRQ type, and every host stimulus that
    /// changed the input level. See the type remarks for ordering and threads.
    /// </summary>
    public event EventHandler<GpioLineChange>? LineChanged;

    /// <inheritdoc/>
    public override int LineCount => _direction.Length;

    /// <summary>The line names.</summary>
    public GpioLineNames Names => _names;

    /// <summary>The clock used for timestamps.</summary>
    public TimeProvider TimeProvider => _time;

    /// <inheritdoc/>
    public override string GetLineName(int lineNumber)
    {
        CheckLine(lineNumber);
        return _names[lineNumber];
    }

    /// <inheritdoc/>
    public override LineValue Read(int lineNumber) => GetLevel(lineNumber);

    /// <inheritdoc/>
    public override void Read(Span<LineValuePair> lines)
    {
        lock (_gate)
        {
            for (int i = 0; i < lines.Length; i++)
            {
                int line = lines[i].LineNumber;
                CheckLine(line);
                lines[i] = new LineValuePair(line, EffectiveLevel(line));
            }
        }
    }

    /// <inheritdoc/>
    public override void Write(int lineNumber, LineValue value)
    {
        CheckLine(lineNumber);
        t_deviceCallDepth++;
        try
        {
            lock (_gate)
            {
                LineValue before = EffectiveLevel(lineNumber);
                _outputLatch[lineNumber] = value;
                PublishEffective(lineNumber);
                LineValue after = EffectiveLevel(lineNumber);
                if (before != after)
                {
                    EnqueueLocked(lineNumber, before, after, GpioLineChangeSource.Guest, applied: true);
                }
            }

            DrainObservers();
        }
        finally
        {
            t_deviceCallDepth--;
        }
    }

    /// <inheritdoc/>
    public override void SetDirection(int lineNumber, GpioDirection direction, LineValue initialValue)
    {
        CheckLine(lineNumber);
        t_deviceCallDepth++;
        try
        {
            lock (_gate)
            {
                LineValue before = EffectiveLevel(lineNumber);
                GpioDirection oldDirection = _direction[lineNumber];
                if (direction == GpioDirection.Output)
                {
                    _outputLatch[lineNumber] = initialValue;
                }

                _direction[lineNumber] = direction;
                PublishEffective(lineNumber);
                LineValue after = EffectiveLevel(lineNumber);
                if (before != after || oldDirection != direction)
                {
                    EnqueueLocked(lineNumber, before, after, GpioLineChangeSource.Guest, applied: true);
                }
            }

            DrainObservers();
        }
        finally
        {
            t_deviceCallDepth--;
        }
    }

    /// <inheritdoc/>
    public override void SetIrqType(int lineNumber, GpioIrqType irqType)
    {
        CheckLine(lineNumber);
        t_deviceCallDepth++;
        try
        {
            lock (_gate)
            {
                if (_irqType[lineNumber] != irqType)
                {
                    _irqType[lineNumber] = irqType;
                    LineValue level = EffectiveLevel(lineNumber);
                    EnqueueLocked(lineNumber, level, level, GpioLineChangeSource.Guest, applied: true);
                }
            }

            DrainObservers();
        }
        finally
        {
            t_deviceCallDepth--;
        }
    }

    /// <summary>Sets the host input level of a line (a stimulus). No-op when the level is unchanged.</summary>
    /// <param name="lineNumber">The line.</param>
    /// <param name="level">The new input level.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineNumber"/> is out of range.</exception>
    /// <remarks>On a guest output the stimulus is recorded but not applied (see the type remarks).</remarks>
    public void SetInputLevel(int lineNumber, LineValue level)
    {
        CheckLine(lineNumber);
        lock (_gate)
        {
            ApplyInputLocked(lineNumber, level);
        }

        DrainAll();
    }

    /// <summary>Inverts the host input level of a line (one edge).</summary>
    /// <param name="lineNumber">The line.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineNumber"/> is out of range.</exception>
    public void Toggle(int lineNumber)
    {
        CheckLine(lineNumber);
        lock (_gate)
        {
            ApplyInputLocked(lineNumber, _inputLevel[lineNumber].Invert());
        }

        DrainAll();
    }

    /// <summary>Produces two edges atomically: the input level is inverted and restored (low → high → low from low).</summary>
    /// <param name="lineNumber">The line.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineNumber"/> is out of range.</exception>
    public void Pulse(int lineNumber)
    {
        CheckLine(lineNumber);
        lock (_gate)
        {
            LineValue rest = _inputLevel[lineNumber];
            ApplyInputLocked(lineNumber, rest.Invert());
            ApplyInputLocked(lineNumber, rest);
        }

        DrainAll();
    }

    /// <summary>
    /// Produces a pulse to <paramref name="activeLevel"/> and back to its inverse, atomically. If the line already
    /// rests at <paramref name="activeLevel"/>, it first goes inactive, so the result is always the edge into the
    /// active level followed by the edge out of it, ending inactive.
    /// </summary>
    /// <param name="lineNumber">The line.</param>
    /// <param name="activeLevel">The level of the pulse.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineNumber"/> is out of range.</exception>
    public void Pulse(int lineNumber, LineValue activeLevel)
    {
        CheckLine(lineNumber);
        lock (_gate)
        {
            ApplyInputLocked(lineNumber, activeLevel.Invert());
            ApplyInputLocked(lineNumber, activeLevel);
            ApplyInputLocked(lineNumber, activeLevel.Invert());
        }

        DrainAll();
    }

    /// <summary>The effective level: the driven level of an output, the input level otherwise.</summary>
    /// <param name="lineNumber">The line.</param>
    /// <returns>The level.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineNumber"/> is out of range.</exception>
    public LineValue GetLevel(int lineNumber)
    {
        CheckLine(lineNumber);
        return Volatile.Read(ref _effective[lineNumber]) != 0 ? LineValue.High : LineValue.Low;
    }

    /// <summary>The host input level of a line (whatever its direction).</summary>
    /// <param name="lineNumber">The line.</param>
    /// <returns>The level.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineNumber"/> is out of range.</exception>
    public LineValue GetInputLevel(int lineNumber)
    {
        CheckLine(lineNumber);
        lock (_gate)
        {
            return _inputLevel[lineNumber];
        }
    }

    /// <summary>The guest's output latch of a line (driven only while the line is an output).</summary>
    /// <param name="lineNumber">The line.</param>
    /// <returns>The level.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineNumber"/> is out of range.</exception>
    public LineValue GetOutputValue(int lineNumber)
    {
        CheckLine(lineNumber);
        lock (_gate)
        {
            return _outputLatch[lineNumber];
        }
    }

    /// <summary>The direction the guest configured.</summary>
    /// <param name="lineNumber">The line.</param>
    /// <returns>The direction.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineNumber"/> is out of range.</exception>
    public GpioDirection GetDirection(int lineNumber)
    {
        CheckLine(lineNumber);
        lock (_gate)
        {
            return _direction[lineNumber];
        }
    }

    /// <summary>The IRQ type the guest configured.</summary>
    /// <param name="lineNumber">The line.</param>
    /// <returns>The IRQ type.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineNumber"/> is out of range.</exception>
    public GpioIrqType GetIrqType(int lineNumber)
    {
        CheckLine(lineNumber);
        lock (_gate)
        {
            return _irqType[lineNumber];
        }
    }

    /// <summary>
    /// Subscribes <paramref name="handler"/> to <see cref="LineChanged"/> and, atomically with it, captures every
    /// line's effective level, the last sequence number and the time. Changes with a sequence number above
    /// <paramref name="sequenceNumber"/> are exactly those not reflected in <paramref name="levels"/>.
    /// </summary>
    internal void SubscribeWithSnapshot(EventHandler<GpioLineChange> handler, out LineValue[] levels, out long sequenceNumber, out DateTimeOffset now)
    {
        lock (_gate)
        {
            LineChanged += handler;
            levels = new LineValue[LineCount];
            for (int i = 0; i < levels.Length; i++)
            {
                levels[i] = EffectiveLevel(i);
            }

            sequenceNumber = _sequence;
            now = _time.GetUtcNow();
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        lock (_gate)
        {
            _sinkQueue.Clear();
        }
    }

    private static GpioLineNames CreateNames(int lineCount)
    {
        if (lineCount < 1 || lineCount > GpioLineNames.MaxCount)
        {
            throw new ArgumentOutOfRangeException(nameof(lineCount), lineCount, $"Expected 1..{GpioLineNames.MaxCount}.");
        }

        return GpioLineNames.CreateUnnamed(lineCount);
    }

    private void CheckLine(int lineNumber)
    {
        if (unchecked((uint)lineNumber) >= (uint)_direction.Length)
        {
            ThrowLineOutOfRange(lineNumber);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowLineOutOfRange(int lineNumber)
        => throw new ArgumentOutOfRangeException(nameof(lineNumber), lineNumber, $"Expected 0..{_direction.Length - 1}.");

    /// <summary>
    /// The device's GET_VALUE read of a line it has already validated (0 ≤ line &lt; <see cref="LineCount"/>):
    /// the same lock-free read as <see cref="GetLevel(int)"/>, without the argument check and its exception.
    /// </summary>
    internal LineValue ReadValidated(int lineNumber) => Volatile.Read(ref _effective[lineNumber]) != 0 ? LineValue.High : LineValue.Low;

    private void PublishEffective(int line) => Volatile.Write(ref _effective[line], EffectiveLevel(line).IsHigh ? (byte)1 : (byte)0);

    private LineValue EffectiveLevel(int line)
        => _direction[line] == GpioDirection.Output ? _outputLatch[line] : _inputLevel[line];

    private void ApplyInputLocked(int line, LineValue level)
    {
        LineValue old = _inputLevel[line];
        if (old == level)
        {
            return;
        }

        _inputLevel[line] = level;
        PublishEffective(line);
        bool applied = _direction[line] != GpioDirection.Output;
        GpioLineChange change = EnqueueLocked(line, old, level, GpioLineChangeSource.Host, applied);
        if (applied && !IsDisposed)
        {
            _sinkQueue.Enqueue(change);
        }
    }

    private GpioLineChange EnqueueLocked(int line, LineValue oldValue, LineValue newValue, GpioLineChangeSource source, bool applied)
    {
        var change = new GpioLineChange(++_sequence, line, oldValue, newValue, _direction[line], _irqType[line], source, applied, _time.GetUtcNow());
        _observerQueue.Enqueue(change);
        return change;
    }

    private void DrainAll()
    {
        DrainObservers();
        if (t_deviceCallDepth > 0)
        {
            // Stimulus raised from inside a device-originated call: never re-enter the device on its own stack.
            ThreadPool.QueueUserWorkItem(static state => ((SimulatedGpioLineBackend)state!).DrainSink(), this);
        }
        else
        {
            DrainSink();
        }
    }

    private void DrainObservers()
    {
        lock (_gate)
        {
            if (_observerDraining)
            {
                return; // the thread already draining delivers our items, in order
            }

            _observerDraining = true;
        }

        bool done = false;
        try
        {
            while (true)
            {
                GpioLineChange change;
                lock (_gate)
                {
                    if (_observerQueue.Count == 0)
                    {
                        _observerDraining = false;
                        done = true;
                        return;
                    }

                    change = _observerQueue.Dequeue();
                }

                LineChanged?.Invoke(this, change);
            }
        }
        finally
        {
            if (!done)
            {
                lock (_gate)
                {
                    _observerDraining = false;
                }
            }
        }
    }

    private void DrainSink()
    {
        lock (_gate)
        {
            if (_sinkDraining)
            {
                return;
            }

            _sinkDraining = true;
        }

        bool done = false;
        try
        {
            while (true)
            {
                GpioLineChange change;
                lock (_gate)
                {
                    if (_sinkQueue.Count == 0)
                    {
                        _sinkDraining = false;
                        done = true;
                        return;
                    }

                    change = _sinkQueue.Dequeue();
                }

                EventSink?.OnLineLevelChanged(change.LineNumber, change.NewValue, change.Timestamp);
            }
        }
        finally
        {
            if (!done)
            {
                lock (_gate)
                {
                    _sinkDraining = false;
                }
            }
        }
    }
}
