// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// <c>struct virtio_gpio_irq_response</c> (STANDARD.md §8): <c>u8 status;</c> — 1 byte, device-writable; used length 1.
/// </summary>
public readonly struct GpioIrqResponse : IEquatable<GpioIrqResponse>
{
    /// <summary>Size of the structure in bytes (the used length of every eventq completion that has a writable byte).</summary>
    public const int Size = 1;

    /// <summary>Creates an eventq response.</summary>
    /// <param name="status">The status.</param>
    public GpioIrqResponse(GpioIrqStatus status) => Status = status;

    /// <summary><c>status</c>.</summary>
    public GpioIrqStatus Status { get; }

    /// <inheritdoc/>
    public bool Equals(GpioIrqResponse other) => Status == other.Status;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GpioIrqResponse other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => (int)Status;

    /// <inheritdoc/>
    public override string ToString() => $"{{status {Status}}}";
}
