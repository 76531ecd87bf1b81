// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>One recorded change of a simulated line (see <see cref="SimulatedGpioLineBackend.LineChanged"/>).</summary>
/// <remarks>
/// <para>For a guest change, <see cref="OldValue"/> and <see cref="NewValue"/> are the line's effective level (what
/// <see cref="GpioLineBackend.Read(int)"/> returns) before and after; a guest change is recorded whenever the
/// direction, the effective level or the IRQ type changed.</para>
/// <para>For a host change they are the host stimulus levels. <see cref="Applied"/> is <see langword="false"/> when
/// the line was a guest-driven output at that moment: the stimulus is recorded but does not change the driven level.</para>
/// </remarks>
public readonly struct GpioLineChange
{
    /// <summary>Creates a record.</summary>
    /// <param name="sequenceNumber">Per-backend increasing number (total order of changes).</param>
    /// <param name="lineNumber">The line.</param>
    /// <param name="oldValue">Level before.</param>
    /// <param name="newValue">Level after.</param>
    /// <param name="direction">The line's direction after the change.</param>
    /// <param name="irqType">The line's IRQ type after the change.</param>
    /// <param name="source">Who caused it.</param>
    /// <param name="applied">Whether the change reached the line's effective level.</param>
    /// <param name="timestamp">When it happened (the backend's <see cref="TimeProvider"/>).</param>
    public GpioLineChange(long sequenceNumber, int lineNumber, LineValue oldValue, LineValue newValue, GpioDirection direction, GpioIrqType irqType, GpioLineChangeSource source, bool applied, DateTimeOffset timestamp)
    {
        SequenceNumber = sequenceNumber;
        LineNumber = lineNumber;
        OldValue = oldValue;
        NewValue = newValue;
        Direction = direction;
        IrqType = irqType;
        Source = source;
        Applied = applied;
        Timestamp = timestamp;
    }

    /// <summary>Per-backend increasing sequence number (1, 2, …): the order in which changes happened.</summary>
    public long SequenceNumber { get; }

    /// <summary>The line.</summary>
    public int LineNumber { get; }

    /// <summary>Level before the change.</summary>
    public LineValue OldValue { get; }

    /// <summary>Level after the change.</summary>
    public LineValue NewValue { get; }

    /// <summary>The line's direction after the change.</summary>
    public GpioDirection Direction { get; }

    /// <summary>The line's IRQ type after the change.</summary>
    public GpioIrqType IrqType { get; }

    /// <summary>Who caused the change.</summary>
    public GpioLineChangeSource Source { get; }

    /// <summary>Whether the change affected the line's effective level (<see langword="false"/> for host stimulus on a guest output).</summary>
    public bool Applied { get; }

    /// <summary>When it happened.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>Whether the effective level changed (an edge visible on the wire).</summary>
    public bool IsEdge => Applied && OldValue != NewValue;

    /// <inheritdoc/>
    public override string ToString()
        => $"#{SequenceNumber} line {LineNumber} {OldValue}->{NewValue} {Direction} irq {IrqType} by {Source}{(Applied ? string.Empty : " (not applied)")} at {Timestamp:O}";
}
