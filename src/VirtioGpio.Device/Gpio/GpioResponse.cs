// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// <c>struct virtio_gpio_response</c> (STANDARD.md §4.1): <c>u8 status; u8 value;</c> — 2 bytes, device-writable.
/// The names variant <c>virtio_gpio_response_N</c> (status + N name bytes) is written by
/// <see cref="GpioCodec.TryWriteLineNamesResponse(Span{byte}, ReadOnlySpan{byte}, out int)"/>.
/// </summary>
public readonly struct GpioResponse : IEquatable<GpioResponse>
{
    /// <summary>Size of the structure in bytes (the used length of every well-formed non-names reply).</summary>
    public const int Size = 2;

    /// <summary>Creates a response.</summary>
    /// <param name="status">The status.</param>
    /// <param name="value">The value byte (0 on failure, D1).</param>
    public GpioResponse(GpioStatus status, byte value)
    {
        Status = status;
        Value = value;
    }

    /// <summary>The failure response <c>01 00</c>.</summary>
    public static GpioResponse Error => new(GpioStatus.Err, 0);

    /// <summary><c>status</c>.</summary>
    public GpioStatus Status { get; }

    /// <summary><c>value</c>.</summary>
    public byte Value { get; }

    /// <inheritdoc/>
    public bool Equals(GpioResponse other) => Status == other.Status && Value == other.Value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GpioResponse other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => ((int)Status << 8) | Value;

    /// <inheritdoc/>
    public override string ToString() => $"{{status {Status}, value {Value}}}";
}
