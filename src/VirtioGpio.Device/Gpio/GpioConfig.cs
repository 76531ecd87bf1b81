// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// <c>struct virtio_gpio_config</c> (STANDARD.md §3; VIRTIO 1.3 §5.18.4 "Device configuration layout"):
/// <c>le16 ngpio; u8 padding[2]; le32 gpio_names_size;</c> — 8 bytes, read-only for the driver.
/// Encode with <see cref="GpioCodec.TryWriteConfig(Span{byte}, in GpioConfig, out int)"/>; the padding is always zero (D2).
/// </summary>
public readonly struct GpioConfig : IEquatable<GpioConfig>
{
    /// <summary>Size of the structure in bytes.</summary>
    public const int Size = 8;

    /// <summary>Creates a configuration.</summary>
    /// <param name="lineCount"><c>ngpio</c>: total number of lines (Linux refuses 0).</param>
    /// <param name="namesSize"><c>gpio_names_size</c>: the names block size, or 0 when names are not supported (D3).</param>
    public GpioConfig(ushort lineCount, uint namesSize)
    {
        LineCount = lineCount;
        NamesSize = namesSize;
    }

    /// <summary><c>ngpio</c>: total number of lines.</summary>
    public ushort LineCount { get; }

    /// <summary><c>gpio_names_size</c>: size of the <see cref="GpioMessageType.GetLineNames"/> block, 0 when names are not supported.</summary>
    public uint NamesSize { get; }

    /// <inheritdoc/>
    public bool Equals(GpioConfig other) => LineCount == other.LineCount && NamesSize == other.NamesSize;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GpioConfig other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => (LineCount * 397) ^ (int)NamesSize;

    /// <inheritdoc/>
    public override string ToString() => $"{{ngpio {LineCount}, gpio_names_size {NamesSize}}}";
}
