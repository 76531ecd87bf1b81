// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// A snapshot of one line of a <see cref="VirtioGpioDevice"/> as the guest configured it (STANDARD.md §6: direction,
/// remembered output value, IRQ type, latched edge, held eventq pair). Host input levels live in the
/// <see cref="GpioLineBackend"/>.
/// </summary>
public readonly struct GpioLineState : IEquatable<GpioLineState>
{
    /// <summary>Creates a snapshot.</summary>
    /// <param name="lineNumber">The line.</param>
    /// <param name="direction">The direction the guest set.</param>
    /// <param name="outputValue">The value of the last SET_VALUE (driven while the line is an output; S2).</param>
    /// <param name="irqType">The enabled IRQ type (<see cref="GpioIrqType.None"/> = disabled).</param>
    /// <param name="isEdgeLatched">Whether an edge was latched while the line was masked (D8).</param>
    /// <param name="isInterruptArmed">Whether the device holds an eventq pair for the line (the line is unmasked).</param>
    public GpioLineState(int lineNumber, GpioDirection direction, LineValue outputValue, GpioIrqType irqType, bool isEdgeLatched, bool isInterruptArmed)
    {
        LineNumber = lineNumber;
        Direction = direction;
        OutputValue = outputValue;
        IrqType = irqType;
        IsEdgeLatched = isEdgeLatched;
        IsInterruptArmed = isInterruptArmed;
    }

    /// <summary>The line.</summary>
    public int LineNumber { get; }

    /// <summary>The direction the guest set (<see cref="GpioDirection.None"/> at reset and after SET_DIRECTION(NONE)).</summary>
    public GpioDirection Direction { get; }

    /// <summary>The value of the last SET_VALUE, remembered even while the line is not an output (S2); low by default.</summary>
    public LineValue OutputValue { get; }

    /// <summary>The enabled IRQ type; <see cref="GpioIrqType.None"/> when disabled.</summary>
    public GpioIrqType IrqType { get; }

    /// <summary>Whether an edge is latched and will be reported when the guest unmasks the line (D8, S7).</summary>
    public bool IsEdgeLatched { get; }

    /// <summary>Whether the device holds an eventq pair for the line, i.e. the guest unmasked it.</summary>
    public bool IsInterruptArmed { get; }

    /// <inheritdoc/>
    public bool Equals(GpioLineState other)
        => LineNumber == other.LineNumber && Direction == other.Direction && OutputValue == other.OutputValue
            && IrqType == other.IrqType && IsEdgeLatched == other.IsEdgeLatched && IsInterruptArmed == other.IsInterruptArmed;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GpioLineState other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => (LineNumber * 397) ^ ((int)Direction << 20) ^ ((int)IrqType << 24) ^ (OutputValue.IsHigh ? 1 << 28 : 0)
        ^ (IsEdgeLatched ? 1 << 29 : 0) ^ (IsInterruptArmed ? 1 << 30 : 0);

    /// <inheritdoc/>
    public override string ToString()
        => $"line {LineNumber}: {Direction}, out {OutputValue}, irq {IrqType}{(IsEdgeLatched ? ", latched" : string.Empty)}{(IsInterruptArmed ? ", armed" : string.Empty)}";

    /// <summary>Equality.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    /// <returns>Whether equal.</returns>
    public static bool operator ==(GpioLineState left, GpioLineState right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    /// <returns>Whether different.</returns>
    public static bool operator !=(GpioLineState left, GpioLineState right) => !left.Equals(right);
}
