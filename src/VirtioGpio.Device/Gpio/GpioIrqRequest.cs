// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// <c>struct virtio_gpio_irq_request</c> (STANDARD.md §8): <c>le16 gpio;</c> — 2 bytes, device-readable.
/// Untrusted: check <see cref="Line"/> against <c>ngpio</c> before use.
/// </summary>
public readonly struct GpioIrqRequest : IEquatable<GpioIrqRequest>
{
    /// <summary>Size of the structure in bytes.</summary>
    public const int Size = 2;

    /// <summary>Creates an eventq request.</summary>
    /// <param name="line">The <c>gpio</c> field.</param>
    public GpioIrqRequest(ushort line) => Line = line;

    /// <summary><c>gpio</c>: the line the pair unmasks.</summary>
    public ushort Line { get; }

    /// <inheritdoc/>
    public bool Equals(GpioIrqRequest other) => Line == other.Line;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GpioIrqRequest other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Line;

    /// <inheritdoc/>
    public override string ToString() => $"{{gpio {Line}}}";
}
