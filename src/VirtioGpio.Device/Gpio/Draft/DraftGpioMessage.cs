// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio.Draft;

/// <summary>
/// <c>struct virtio_gpio_msg</c> of the draft protocol (DRAFT.md §4.1): <c>le16 type; le16 pin; le32 value;</c> — 8 bytes in
/// both directions. <see cref="Value"/> holds a signed int: a result, or a negative errno in two's complement.
/// Encode and decode with <see cref="DraftGpioCodec"/>.
/// </summary>
public readonly struct DraftGpioMessage : IEquatable<DraftGpioMessage>
{
    /// <summary>Size of the message in bytes.</summary>
    public const int Size = 8;

    /// <summary>Creates a message.</summary>
    /// <param name="type">The raw type, including any reply-mask bits.</param>
    /// <param name="pin">The line.</param>
    /// <param name="value">The value (signed).</param>
    public DraftGpioMessage(ushort type, ushort pin, int value)
    {
        RawType = type;
        Pin = pin;
        Value = value;
    }

    /// <summary>Creates a message.</summary>
    /// <param name="type">The type.</param>
    /// <param name="pin">The line.</param>
    /// <param name="value">The value (signed).</param>
    public DraftGpioMessage(DraftGpioMessageType type, ushort pin, int value)
        : this((ushort)type, pin, value)
    {
    }

    /// <summary>The raw <c>type</c> as on the wire (replies carry the reply mask in the high nibble).</summary>
    public ushort RawType { get; }

    /// <summary>The type with the v3 reply mask 0xF000 stripped, as the driver interprets it.</summary>
    public DraftGpioMessageType Type => (DraftGpioMessageType)(RawType & 0x0FFF);

    /// <summary><c>pin</c>: the line number (untrusted in requests).</summary>
    public ushort Pin { get; }

    /// <summary><c>value</c>: request argument, or reply result / negative errno.</summary>
    public int Value { get; }

    /// <inheritdoc/>
    public bool Equals(DraftGpioMessage other) => RawType == other.RawType && Pin == other.Pin && Value == other.Value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is DraftGpioMessage other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => ((RawType << 16) | Pin) ^ Value;

    /// <inheritdoc/>
    public override string ToString() => $"{{type 0x{RawType:x4}, pin {Pin}, value {Value}}}";
}
