// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// <c>struct virtio_gpio_request</c> (STANDARD.md §4.1): <c>le16 type; le16 gpio; le32 value;</c> — 8 bytes,
/// device-readable. A plain copy of guest bytes: every field is untrusted and unvalidated.
/// </summary>
public readonly struct GpioRequest : IEquatable<GpioRequest>
{
    /// <summary>Size of the structure in bytes.</summary>
    public const int Size = 8;

    /// <summary>Creates a request.</summary>
    /// <param name="type">The message type (any 16-bit value).</param>
    /// <param name="line">The <c>gpio</c> field.</param>
    /// <param name="value">The <c>value</c> field.</param>
    public GpioRequest(GpioMessageType type, ushort line, uint value)
    {
        Type = type;
        Line = line;
        Value = value;
    }

    /// <summary><c>type</c>; may be an undefined value (reply <see cref="GpioStatus.Err"/>).</summary>
    public GpioMessageType Type { get; }

    /// <summary><c>gpio</c>: the line number as sent; check it against <c>ngpio</c> before use.</summary>
    public ushort Line { get; }

    /// <summary><c>value</c>: message-specific, never truncated.</summary>
    public uint Value { get; }

    /// <inheritdoc/>
    public bool Equals(GpioRequest other) => Type == other.Type && Line == other.Line && Value == other.Value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GpioRequest other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => ((int)Type << 16 ^ Line) * 397 ^ (int)Value;

    /// <inheritdoc/>
    public override string ToString() => $"{{type {Type}, gpio {Line}, value 0x{Value:x}}}";
}
