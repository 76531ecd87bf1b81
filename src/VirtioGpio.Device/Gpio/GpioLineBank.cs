// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Internal;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Gpio;

/// <summary>
/// The per-line state machine of the standard device (STANDARD.md §4.4 policy table, §6 line and interrupt
/// rules, §6.2 transition table). Pure logic over a <see cref="GpioLineBackend"/>: it never touches a queue;
/// held eventq pairs are stored as (head index, guest address of the 1-byte response) and returned through an
/// <see cref="IHeldPairCompleter"/>, which re-translates the address at completion.
/// </summary>
/// <remarks>
/// <para>Not thread-safe: the device calls it under its lock. Guest input never throws: every wire line number
/// enters through <see cref="TryGetLine(ushort, out int)"/>, every wire value is parsed into an exact set, and
/// backend failures become <see cref="GpioStatus.Err"/> with <see cref="RejectReason.BackendFailure"/>.</para>
/// <para>Two independent switches per line (§6): enabled (IRQ type ≠ NONE, set on the requestq) and unmasked
/// (a pair is held). A notification needs both (D11).</para>
/// </remarks>
internal sealed class GpioLineBank
{
    private readonly Line[] _lines;
    private readonly GpioLineBackend _backend;
    private readonly SimulatedGpioLineBackend? _simulated; // _backend when it is the built-in simulation: a read that cannot fail
    private readonly IHeldPairCompleter _completer;
    private readonly TimeProvider _time;
    private readonly bool _strictUnarmedPairs;
    private readonly int _strictBurst;
    private readonly long _strictWindowTicks;
    private readonly bool _implicitIrqTypeChange;
    private readonly bool _readUnconfiguredLines;

    public GpioLineBank(
        GpioLineBackend backend,
        IHeldPairCompleter completer,
        TimeProvider time,
        bool strictUnarmedPairs = false,
        int strictInvalidBurst = 4,
        TimeSpan strictInvalidInterval = default,
        bool implicitIrqTypeChange = false,
        bool readUnconfiguredLines = true)
    {
        ThrowHelper.ThrowIfNull(backend);
        ThrowHelper.ThrowIfNull(completer);
        ThrowHelper.ThrowIfNull(time);
        int count = backend.LineCount;
        if (count < 1 || count > ushort.MaxValue)
        {
            ThrowHelper.ThrowArgumentOutOfRangeException(nameof(backend), count, "A virtio-gpio device has 1..65535 lines (Linux fails probe when ngpio is 0).");
        }

        _backend = backend;
        _simulated = backend as SimulatedGpioLineBackend;
        _completer = completer;
        _time = time;
        _strictUnarmedPairs = strictUnarmedPairs;
        _strictBurst = Math.Max(0, strictInvalidBurst);
        TimeSpan interval = strictInvalidInterval <= TimeSpan.Zero ? TimeSpan.FromSeconds(1) : strictInvalidInterval;
        _strictWindowTicks = Math.Max(1, (long)(interval.TotalSeconds * time.TimestampFrequency));
        _implicitIrqTypeChange = implicitIrqTypeChange;
        _readUnconfiguredLines = readUnconfiguredLines;
        _lines = new Line[count];
        RefreshSensedLevels();
    }

    /// <summary>Number of lines (<c>ngpio</c>).</summary>
    public int LineCount => _lines.Length;

    /// <summary>The last exception a backend call threw (for the device's log), cleared by <see cref="TakeBackendException"/>.</summary>
    public Exception? LastBackendException { get; private set; }

    /// <summary>Number of INVALID returns the strict S4 limiter turned into holds (diagnostics, §9.4 guard).</summary>
    public long StrictInvalidSuppressed { get; private set; }

    /// <summary>
    /// The only route from a wire <c>gpio</c> to an index (STYLE.md §C rule 1; PEERS.md VDG-1 / N1):
    /// <c>gpio &lt; ngpio</c>, checked once here.
    /// </summary>
    /// <param name="wire">The guest's <c>le16 gpio</c>.</param>
    /// <param name="line">The validated line number.</param>
    /// <returns><see langword="false"/> when out of range.</returns>
    public bool TryGetLine(ushort wire, out int line)
    {
        if (wire < (uint)_lines.Length)
        {
            line = wire;
            return true;
        }

        line = -1;
        return false;
    }

    /// <summary>Returns and clears <see cref="LastBackendException"/>.</summary>
    /// <returns>The exception, or <see langword="null"/>.</returns>
    public Exception? TakeBackendException()
    {
        Exception? ex = LastBackendException;
        LastBackendException = null;
        return ex;
    }

    /// <summary>A snapshot of one line.</summary>
    /// <param name="line">A validated line.</param>
    /// <returns>The snapshot.</returns>
    public GpioLineState GetState(int line)
    {
        ref Line l = ref _lines[line];
        return new GpioLineState(line, l.Direction, l.OutputValue, l.IrqType, l.Latched, l.HasPair && !l.ReturnInvalidPending);
    }

    // ----------------------------------------------------------------------------------------------
    // requestq operations (STANDARD.md §4.2, §4.4). Each takes a validated line.
    // ----------------------------------------------------------------------------------------------

    /// <summary>GET_DIRECTION: 0 none, 1 out, 2 in.</summary>
    public LineResult GetDirection(int line) => LineResult.WithValue((byte)_lines[line].Direction);

    /// <summary>SET_DIRECTION (§4.4; D7 for NONE).</summary>
    public LineResult SetDirection(int line, uint rawDirection)
    {
        // STANDARD.md §4.4: value > 2 → ERR, never truncated to a byte (0x101 is not OUT; PEERS.md VDG-11).
        if (!GpioCodec.TryParseDirection(rawDirection, out GpioDirection direction))
        {
            return LineResult.Error(RejectReason.InvalidDirection);
        }

        ref Line l = ref _lines[line];
        switch (direction)
        {
            case GpioDirection.None:
                // D7: "MUST discard all state of a line on SET_DIRECTION(NONE)" — direction, value, irq type,
                // latch; a held pair goes back INVALID as for D12 (PEERS.md VDG-7).
                if (!TryBackend(line, BackendOp.SetDirectionNone))
                {
                    return LineResult.Error(RejectReason.BackendFailure);
                }

                if (l.IrqType != GpioIrqType.None)
                {
                    TryBackend(line, BackendOp.SetIrqTypeNone); // best effort: the guest's state is discarded anyway
                }

                l.Direction = GpioDirection.None;
                l.OutputValue = LineValue.Low;
                l.IrqType = GpioIrqType.None;
                l.Latched = false;
                l.StrictInvalidCount = 0;
                ReturnHeldPairInvalid(line);
                RefreshSensedLevel(line);
                break;

            case GpioDirection.Output:
                // STANDARD.md §4.4: SET_DIRECTION(OUT) while the IRQ is enabled → ERR (mirror of R6).
                if (l.IrqType != GpioIrqType.None)
                {
                    return LineResult.Error(RejectReason.OutputWhileIrqEnabled);
                }

                // S2 / VDG-10: OUT without an earlier SET_VALUE drives the remembered value (low by default).
                if (!TryBackend(line, BackendOp.SetDirectionOutput, l.OutputValue))
                {
                    return LineResult.Error(RejectReason.BackendFailure);
                }

                l.Direction = GpioDirection.Output;
                break;

            default:
                if (!TryBackend(line, BackendOp.SetDirectionInput))
                {
                    return LineResult.Error(RejectReason.BackendFailure);
                }

                l.Direction = GpioDirection.Input;

                // The backend sends no event for a guest-caused switch: read the level and treat a change as a
                // host change (an enabled IRQ on a NONE line keeps working across NONE → IN).
                if (TryRead(line, out LineValue level))
                {
                    ApplyLevel(line, level);
                }

                break;
        }

        return LineResult.Ok;
    }

    /// <summary>GET_VALUE: input → the backend's sensed level; output → the driven value; NONE → policy.</summary>
    public LineResult GetValue(int line)
    {
        ref Line l = ref _lines[line];
        if (l.Direction == GpioDirection.Output)
        {
            // STANDARD.md §4.4: GET_VALUE on an OUT line → OK, the driven level.
            return LineResult.WithValue((byte)l.OutputValue);
        }

        if (l.Direction == GpioDirection.None && !_readUnconfiguredLines)
        {
            // STANDARD.md §4.4: GET_VALUE on a NONE line is unspecified; the strict policy answers ERR.
            return LineResult.Error(RejectReason.UnconfiguredLineRead);
        }

        if (!TryRead(line, out LineValue level))
        {
            return LineResult.Error(RejectReason.BackendFailure);
        }

        return LineResult.WithValue((byte)level);
    }

    /// <summary>SET_VALUE: value in {0, 1}; accepted on any direction and remembered (S2).</summary>
    public LineResult SetValue(int line, uint rawValue)
    {
        // STANDARD.md §4.4: SET_VALUE value > 1 → ERR.
        if (!GpioCodec.TryParseLineValue(rawValue, out LineValue value))
        {
            return LineResult.Error(RejectReason.InvalidValue);
        }

        // S2: on a line that is not (yet) output, remember the value and apply it when the line becomes output.
        if (!TryBackend(line, BackendOp.Write, value))
        {
            return LineResult.Error(RejectReason.BackendFailure);
        }

        _lines[line].OutputValue = value;
        return LineResult.Ok;
    }

    /// <summary>SET_IRQ_TYPE (§6.2 first three rows; R5, R6, R8, D10, D12).</summary>
    public LineResult SetIrqType(int line, uint rawType, bool irqNegotiated)
    {
        // R5: SET_IRQ_TYPE "is allowed only if the VIRTIO_GPIO_F_IRQ feature has been negotiated".
        if (!irqNegotiated)
        {
            return LineResult.Error(RejectReason.IrqNotNegotiated);
        }

        // STANDARD.md §4.3: exactly one of {0, 1, 2, 3, 4, 8}; a mask test is not enough (VDG-11).
        if (!GpioCodec.TryParseIrqType(rawType, out GpioIrqType type))
        {
            return LineResult.Error(RejectReason.InvalidIrqType);
        }

        ref Line l = ref _lines[line];

        // R6: no IRQ messages for an output line.
        if (l.Direction == GpioDirection.Output)
        {
            return LineResult.Error(RejectReason.IrqOnOutputLine);
        }

        if (type == GpioIrqType.None)
        {
            // §6.2: irqType = NONE; latched = false (D10); a held pair returns INVALID (D12) — before the
            // requestq reply, because the completer publishes synchronously (§6.1 recommended order).
            if (l.IrqType != GpioIrqType.None)
            {
                TryBackend(line, BackendOp.SetIrqTypeNone); // disabling never fails towards the guest
            }

            l.IrqType = GpioIrqType.None;
            l.Latched = false;
            ReturnHeldPairInvalid(line);
            return LineResult.Ok;
        }

        if (l.IrqType == type)
        {
            // §4.4: the same type again is an idempotent no-op (VDG-10).
            return LineResult.Ok;
        }

        if (l.IrqType != GpioIrqType.None && !_implicitIrqTypeChange)
        {
            // R8: the driver must disable before changing the trigger type: ERR and change nothing (default).
            return LineResult.Error(RejectReason.IrqTypeChangeWhileEnabled);
        }

        // Enable (or, with the R8 option, disable-then-enable: the latch is discarded as on disable (D10), and
        // the held pair stays armed instead of making an INVALID round trip).
        if (!TryBackend(line, BackendOp.SetIrqType, default, type))
        {
            return LineResult.Error(RejectReason.BackendFailure);
        }

        l.IrqType = type;
        l.Latched = false;
        if (l.HasPair && !l.ReturnInvalidPending)
        {
            // §6.2: "If a pair is held: level type and level active → return it VALID; otherwise keep it armed."
            if (type.IsLevel() && IsLevelActiveNow(line, type) && _completer.CanCompletePairs)
            {
                CompleteHeld(line, GpioIrqStatus.Valid);
            }
        }

        return LineResult.Ok;
    }

    // ----------------------------------------------------------------------------------------------
    // eventq
    // ----------------------------------------------------------------------------------------------

    /// <summary>
    /// An eventq pair for a validated line arrived (§6.2 "eventq pair arrives"). The caller completes
    /// <see cref="PairOutcome.CompleteValid"/> / <see cref="PairOutcome.CompleteInvalid"/> at once; for
    /// <see cref="PairOutcome.Held"/> the bank now owns the pair.
    /// </summary>
    public PairOutcome OnPairArrived(int line, ushort headIndex, GuestAddress response, out RejectReason reason)
    {
        ref Line l = ref _lines[line];
        reason = RejectReason.None;

        // R12: "not queue multiple pairs for the same line" → return the new one INVALID at once; keep the old.
        if (l.HasPair)
        {
            reason = RejectReason.DuplicateEventPair;
            return PairOutcome.CompleteInvalid;
        }

        if (l.IrqType == GpioIrqType.None)
        {
            // S4 / R10 and the conflict note in §6.1. Default: hold until enabled, disabled or reset — this
            // cannot start the §9.4 INVALID-requeue livelock. Strict: INVALID, at most _strictBurst per line per
            // window; past that the pair is held (still within the spec: S4 is a "should").
            if (_strictUnarmedPairs && TryTakeStrictInvalidToken(ref l))
            {
                reason = RejectReason.EventPairForDisabledLine;
                return PairOutcome.CompleteInvalid;
            }

            Hold(ref l, headIndex, response);
            return PairOutcome.Held;
        }

        if (l.IrqType.IsEdge())
        {
            // D8 / S7: an edge latched while masked is reported as soon as the line is unmasked.
            if (l.Latched)
            {
                l.Latched = false;
                return PairOutcome.CompleteValid;
            }
        }
        else if (IsLevelActiveNow(line, l.IrqType))
        {
            // D9 / S7: levels are not latched; at each unmask an active level notifies again.
            return PairOutcome.CompleteValid;
        }

        Hold(ref l, headIndex, response);
        return PairOutcome.Held;
    }

    /// <summary>The sensed level of a line changed (host side, <see cref="IGpioLineEventSink"/>; §6.2 "input edge" /
    /// "input level becomes active").</summary>
    public void OnLevelChanged(int line, LineValue level) => ApplyLevel(line, level);

    /// <summary>
    /// The eventq became usable again (ready after a suspension or a late enable): deliver INVALID returns that
    /// were due while it was stopped, then re-evaluate every held pair — latched edges and active levels notify
    /// (VHOST-USER.md §6.2: "edges latch …, levels are re-evaluated at restart").
    /// </summary>
    public void OnEventQueueResumed()
    {
        for (int line = 0; line < _lines.Length && _completer.CanCompletePairs; line++)
        {
            ref Line l = ref _lines[line];
            if (!l.HasPair)
            {
                continue;
            }

            if (l.ReturnInvalidPending)
            {
                CompleteHeld(line, GpioIrqStatus.Invalid);
                continue;
            }

            if (l.IrqType.IsEdge() && l.Latched)
            {
                l.Latched = false;
                CompleteHeld(line, GpioIrqStatus.Valid);
            }
            else if (l.IrqType.IsLevel() && IsLevelActiveNow(line, l.IrqType))
            {
                CompleteHeld(line, GpioIrqStatus.Valid);
            }
        }
    }

    /// <summary>Forgets every held pair without completing it (eventq reset; §6.2 last row). Line state is kept.</summary>
    public void ForgetPairs()
    {
        for (int i = 0; i < _lines.Length; i++)
        {
            _lines[i].HasPair = false;
            _lines[i].ReturnInvalidPending = false;
        }
    }

    /// <summary>Device reset: every line back to its defaults, held pairs forgotten, the backend released.
    /// Host input levels live in the backend and survive.</summary>
    public void Reset()
    {
        for (int line = 0; line < _lines.Length; line++)
        {
            ref Line l = ref _lines[line];
            if (l.IrqType != GpioIrqType.None)
            {
                TryBackend(line, BackendOp.SetIrqTypeNone);
            }

            if (l.Direction != GpioDirection.None)
            {
                TryBackend(line, BackendOp.SetDirectionNone);
            }

            l = default;
        }

        LastBackendException = null;
        RefreshSensedLevels();
    }

    // ----------------------------------------------------------------------------------------------

    private void ApplyLevel(int line, LineValue level)
    {
        ref Line l = ref _lines[line];
        LineValue old = l.SensedLevel;
        l.SensedLevel = level;
        if (old == level || l.Direction == GpioDirection.Output)
        {
            return; // no change, or the guest drives the line (the backend reports no host change for it)
        }

        GpioIrqType type = l.IrqType;
        if (type == GpioIrqType.None)
        {
            return; // D11: never notify a disabled line; nothing is latched before enable (S3)
        }

        bool armed = l.HasPair && !l.ReturnInvalidPending;
        if (type.IsEdge())
        {
            if (!type.MatchesEdge(old, level))
            {
                return;
            }

            if (armed && _completer.CanCompletePairs)
            {
                // §6.2 "input edge, edge type matches, pair held" → VALID; the line is masked again.
                CompleteHeld(line, GpioIrqStatus.Valid);
            }
            else
            {
                // D8: latch while masked (or while the eventq is suspended: no guest memory is touched).
                l.Latched = true;
            }

            return;
        }

        // Level types: notify if active and unmasked; D9: nothing is latched otherwise.
        if (type.IsLevelActive(level) && armed && _completer.CanCompletePairs)
        {
            CompleteHeld(line, GpioIrqStatus.Valid);
        }
    }

    private static void Hold(ref Line l, ushort headIndex, GuestAddress response)
    {
        l.HasPair = true;
        l.ReturnInvalidPending = false;
        l.PairHead = headIndex;
        l.PairResponse = response;
    }

    private void ReturnHeldPairInvalid(int line)
    {
        ref Line l = ref _lines[line];
        if (!l.HasPair)
        {
            return;
        }

        if (_completer.CanCompletePairs)
        {
            CompleteHeld(line, GpioIrqStatus.Invalid);
        }
        else
        {
            // The eventq is stopped: the pair is logically returned; it is written when the queue resumes
            // (or forgotten if the queue is reset).
            l.ReturnInvalidPending = true;
        }
    }

    private void CompleteHeld(int line, GpioIrqStatus status)
    {
        ref Line l = ref _lines[line];
        ushort head = l.PairHead;
        GuestAddress response = l.PairResponse;
        l.HasPair = false;
        l.ReturnInvalidPending = false;
        _completer.CompletePair(line, head, response, status);
    }

    private bool TryTakeStrictInvalidToken(ref Line l)
    {
        // §9.4 guard: per line, at most _strictBurst INVALID returns per window.
        long now = _time.GetTimestamp();
        if (l.StrictInvalidCount == 0 || now - l.StrictWindowStart >= _strictWindowTicks || now < l.StrictWindowStart)
        {
            l.StrictWindowStart = now;
            l.StrictInvalidCount = 0;
        }

        if (l.StrictInvalidCount < _strictBurst)
        {
            l.StrictInvalidCount++;
            return true;
        }

        StrictInvalidSuppressed++;
        return false;
    }

    private bool IsLevelActiveNow(int line, GpioIrqType type)
    {
        // Levels are re-evaluated from the backend at each unmask (S7), not from a possibly stale copy.
        if (!TryRead(line, out LineValue level))
        {
            return false;
        }

        _lines[line].SensedLevel = level;
        return type.IsLevelActive(level);
    }

    private void RefreshSensedLevels()
    {
        for (int line = 0; line < _lines.Length; line++)
        {
            RefreshSensedLevel(line);
        }
    }

    private void RefreshSensedLevel(int line)
    {
        if (TryRead(line, out LineValue level))
        {
            _lines[line].SensedLevel = level;
        }
    }

    private bool TryRead(int line, out LineValue level)
    {
        SimulatedGpioLineBackend? simulated = _simulated;
        if (simulated is not null)
        {
            level = simulated.ReadValidated(line); // line < LineCount: validated at the boundary (TryGetLine)
            return true;
        }

        return TryReadBackend(line, out level);
    }

    private bool TryReadBackend(int line, out LineValue level)
    {
        try
        {
            level = _backend.Read(line);
            return true;
        }
#pragma warning disable CA1031 // STYLE.md §C: a host backend failure becomes STATUS_ERR, never a crash.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LastBackendException = ex;
            level = LineValue.Low;
            return false;
        }
    }

    private bool TryBackend(int line, BackendOp op, LineValue value = default, GpioIrqType irqType = GpioIrqType.None)
    {
        try
        {
            switch (op)
            {
                case BackendOp.Write:
                    _backend.Write(line, value);
                    break;
                case BackendOp.SetDirectionNone:
                    _backend.SetDirection(line, GpioDirection.None, LineValue.Low);
                    break;
                case BackendOp.SetDirectionInput:
                    _backend.SetDirection(line, GpioDirection.Input, LineValue.Low);
                    break;
                case BackendOp.SetDirectionOutput:
                    _backend.SetDirection(line, GpioDirection.Output, value);
                    break;
                case BackendOp.SetIrqType:
                    _backend.SetIrqType(line, irqType);
                    break;
                default:
                    _backend.SetIrqType(line, GpioIrqType.None);
                    break;
            }

            return true;
        }
#pragma warning disable CA1031 // STYLE.md §C: a host backend failure becomes STATUS_ERR, never a crash.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LastBackendException = ex;
            return false;
        }
    }

    private enum BackendOp : byte
    {
        Write,
        SetDirectionNone,
        SetDirectionInput,
        SetDirectionOutput,
        SetIrqType,
        SetIrqTypeNone,
    }

    /// <summary>Mutable per-line state (STANDARD.md §6: direction, outputValue, irqType, latched, heldPair).</summary>
    private struct Line
    {
        public GpioDirection Direction;
        public LineValue OutputValue;
        public GpioIrqType IrqType;
        public bool Latched;
        public bool HasPair;
        public bool ReturnInvalidPending;
        public ushort PairHead;
        public GuestAddress PairResponse;
        public LineValue SensedLevel;
        public int StrictInvalidCount;
        public long StrictWindowStart;
    }
}
