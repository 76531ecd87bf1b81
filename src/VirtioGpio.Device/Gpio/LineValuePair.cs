// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>A line number and its level, mirroring <c>System.Device.Gpio.PinValuePair</c>; used by batch reads.</summary>
public readonly struct LineValuePair
{
    /// <summary>Creates a pair.</summary>
    /// <param name="lineNumber">The line number.</param>
    /// <param name="value">The level.</param>
    public LineValuePair(int lineNumber, LineValue value)
    {
        LineNumber = lineNumber;
        Value = value;
    }

    /// <summary>The line number.</summary>
    public int LineNumber { get; }

    /// <summary>The level.</summary>
    public LineValue Value { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{LineNumber}={Value}";
}
