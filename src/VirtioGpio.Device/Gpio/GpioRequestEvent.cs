// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// A requestq message the device answered (<see cref="VirtioGpioDevice.RequestProcessed"/>). Fields are the guest's
/// raw values: <see cref="Type"/> may be unknown and <see cref="Line"/> out of range when <see cref="Status"/> is ERR.
/// </summary>
public readonly struct GpioRequestEvent : IEquatable<GpioRequestEvent>
{
    /// <summary>Creates an event.</summary>
    /// <param name="type">The message type as sent.</param>
    /// <param name="line">The <c>gpio</c> field as sent.</param>
    /// <param name="value">The <c>value</c> field as sent.</param>
    /// <param name="status">The answer.</param>
    /// <param name="responseValue">The response's value byte (0 on ERR and for GET_LINE_NAMES).</param>
    /// <param name="timestamp">When the device answered.</param>
    public GpioRequestEvent(GpioMessageType type, ushort line, uint value, GpioStatus status, byte responseValue, DateTimeOffset timestamp)
    {
        Type = type;
        Line = line;
        Value = value;
        Status = status;
        ResponseValue = responseValue;
        Timestamp = timestamp;
    }

    /// <summary>The message type as sent (may be an undefined value).</summary>
    public GpioMessageType Type { get; }

    /// <summary>The <c>gpio</c> field as sent.</summary>
    public ushort Line { get; }

    /// <summary>The <c>value</c> field as sent.</summary>
    public uint Value { get; }

    /// <summary>OK or ERR.</summary>
    public GpioStatus Status { get; }

    /// <summary>The response value byte.</summary>
    public byte ResponseValue { get; }

    /// <summary>When the device answered (the device's <see cref="TimeProvider"/>).</summary>
    public DateTimeOffset Timestamp { get; }

    /// <inheritdoc/>
    public bool Equals(GpioRequestEvent other)
        => Type == other.Type && Line == other.Line && Value == other.Value && Status == other.Status && ResponseValue == other.ResponseValue && Timestamp == other.Timestamp;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GpioRequestEvent other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => ((int)Type << 16) ^ Line ^ (int)Value ^ ((int)Status << 24) ^ Timestamp.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => $"{Type} gpio {Line} value {Value}: {Status} {ResponseValue}";

    /// <summary>Equality.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    /// <returns>Whether equal.</returns>
    public static bool operator ==(GpioRequestEvent left, GpioRequestEvent right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    /// <param name="left">Left.</param>
    /// <param name="right">Right.</param>
    /// <returns>Whether different.</returns>
    public static bool operator !=(GpioRequestEvent left, GpioRequestEvent right) => !left.Equals(right);
}
