// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// An eventq pair the device returned to the guest (<see cref="VirtioGpioDevice.InterruptDelivered"/>): VALID is an
/// interrupt; INVALID is a pair handed back because the line was disabled (D12), reset by SET_DIRECTION(NONE) (D7),
/// or because the pair was a duplicate or (strict S4) arrived for a disabled line.
/// </summary>
public readonly struct GpioInterruptEvent : IEquatable<GpioInterruptEvent>
{
    /// <summary>Creates an event.</summary>
    /// <param name="lineNumber">The line.</param>
    /// <param name="status">What the device wrote into the pair.</param>
    /// <param name="timestamp">When the device returned it.</param>
    public GpioInterruptEvent(int lineNumber, GpioIrqStatus status, DateTimeOffset timestamp)
    {
        LineNumber = lineNumber;
        Status = status;
        Timestamp = timestamp;
    }

    /// <summary>The line the pair belongs to.</summary>
    public int LineNumber { get; }

    /// <summary><see cref="GpioIrqStatus.Valid"/> (an interrupt) or <see cref="GpioIrqStatus.Invalid"/>.</summary>
    public GpioIrqStatus Status { get; }

    /// <summary>When the device returned the pair (the device's <see cref="TimeProvider"/>).</summary>
    public DateTimeOffset Timestamp { get; }

    /// <inheritdoc/>
    public bool Equals(GpioInterruptEvent other) => LineNumber == other.LineNumber && Status == other.Status && Timestamp == other.Timestamp;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GpioInterruptEvent other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => (LineNumber * 31) ^ (int)Status ^ Timestamp.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => $"line {LineNumber}: {Status}";

    /// <summary>Equality.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    /// <returns>Whether equal.</returns>
    public static bool operator ==(GpioInterruptEvent left, GpioInterruptEvent right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    /// <returns>Whether different.</returns>
    public static bool operator !=(GpioInterruptEvent left, GpioInterruptEvent right) => !left.Equals(right);
}
