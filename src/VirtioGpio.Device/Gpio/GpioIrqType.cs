// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// The interrupt trigger type of a line (STANDARD.md §4.3, VIRTIO 1.3 §5.18.6.1 "requestq Operation: Set IRQ Type").
/// Values equal the spec constants.
/// </summary>
/// <remarks>
/// <para>Deliberately not a <c>[Flags]</c> enum: although the values look like bits, the spec allows
/// exactly <em>one of</em> the six values {0x00, 0x01, 0x02, 0x03, 0x04, 0x08}. Parse guest values with
/// <see cref="GpioCodec.TryParseIrqType(uint, out GpioIrqType)"/>; a mask test is not enough.</para>
/// <para><see cref="EdgeRising"/> and <see cref="EdgeFalling"/> equal <see cref="LineEventTypes.Rising"/> and
/// <see cref="LineEventTypes.Falling"/>.</para>
/// </remarks>
public enum GpioIrqType : byte
{
    /// <summary>Interrupt disabled.</summary>
    /// <remarks><c>VIRTIO_GPIO_IRQ_TYPE_NONE</c> (0x00).</remarks>
    None = 0x00,

    /// <summary>Low-to-high edge.</summary>
    /// <remarks><c>VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING</c> (0x01).</remarks>
    EdgeRising = 0x01,

    /// <summary>High-to-low edge.</summary>
    /// <remarks><c>VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING</c> (0x02).</remarks>
    EdgeFalling = 0x02,

    /// <summary>Either edge.</summary>
    /// <remarks><c>VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH</c> (0x03).</remarks>
    EdgeBoth = 0x03,

    /// <summary>Active while the level is high.</summary>
    /// <remarks><c>VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH</c> (0x04).</remarks>
    LevelHigh = 0x04,

    /// <summary>Active while the level is low.</summary>
    /// <remarks><c>VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW</c> (0x08).</remarks>
    LevelLow = 0x08,
}
