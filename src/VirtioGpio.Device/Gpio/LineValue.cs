// SPDX-License-Identifier: MIT
using System.Diagnostics.CodeAnalysis;

namespace VirtioGpio.Device.Gpio;

/// <summary>
/// The level of a line (low or high), mirroring <c>System.Device.Gpio.PinValue</c>. The wire value
/// (<c>0</c> = low, <c>1</c> = high) is available through the explicit conversion to <see cref="byte"/>.
/// </summary>
/// <example>
/// <code>
/// LineValue v = true;                 // High
/// byte wire = (byte)LineValue.Low;    // 0
/// </code>
/// </example>
public readonly struct LineValue : IEquatable<LineValue>
{
    private readonly byte _value;

    private LineValue(byte value) => _value = value;

    /// <summary>The low level (wire value 0).</summary>
    public static LineValue Low => new(0);

    /// <summary>The high level (wire value 1).</summary>
    public static LineValue High => new(1);

    /// <summary>Whether the level is high.</summary>
    public bool IsHigh => _value != 0;

    /// <summary>The opposite level.</summary>
    /// <returns><see cref="High"/> for <see cref="Low"/> and vice versa.</returns>
    public LineValue Invert() => new((byte)(_value ^ 1));

    /// <summary>Converts a Boolean (<see langword="true"/> = high).</summary>
    /// <param name="value">The Boolean level.</param>
    public static implicit operator LineValue(bool value) => new(value ? (byte)1 : (byte)0);

    /// <summary>Converts to a Boolean (<see langword="true"/> = high).</summary>
    /// <param name="value">The level.</param>
    public static explicit operator bool(LineValue value) => value._value != 0;

    /// <summary>Converts to the wire value (0 or 1).</summary>
    /// <param name="value">The level.</param>
    public static explicit operator byte(LineValue value) => value._value;

    /// <summary>Equality.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>Whether both levels are equal.</returns>
    public static bool operator ==(LineValue left, LineValue right) => left._value == right._value;

    /// <summary>Inequality.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>Whether the levels differ.</returns>
    public static bool operator !=(LineValue left, LineValue right) => left._value != right._value;

    /// <inheritdoc/>
    public bool Equals(LineValue other) => _value == other._value;

    /// <inheritdoc/>
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is LineValue other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _value;

    /// <summary>Returns <c>"High"</c> or <c>"Low"</c>.</summary>
    /// <returns>The level's name.</returns>
    public override string ToString() => _value != 0 ? "High" : "Low";
}
