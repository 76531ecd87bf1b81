// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// The <c>type</c> field of a requestq message (VIRTIO 1.3 §5.18.6 "Device Operation: requestq";
/// STANDARD.md §4.2). Values equal the spec constants. The underlying type is the wire's
/// <c>le16</c>, so an unknown guest value is representable and is answered with
/// <see cref="GpioStatus.Err"/>.
/// </summary>
public enum GpioMessageType : ushort
{
    /// <summary>Get the names block of all lines.</summary>
    /// <remarks><c>VIRTIO_GPIO_MSG_GET_LINE_NAMES</c> (0x0001); Linux uapi: <c>VIRTIO_GPIO_MSG_GET_NAMES</c>.</remarks>
    GetLineNames = 0x0001,

    /// <summary>Get the direction of a line.</summary>
    /// <remarks><c>VIRTIO_GPIO_MSG_GET_DIRECTION</c> (0x0002).</remarks>
    GetDirection = 0x0002,

    /// <summary>Set the direction of a line.</summary>
    /// <remarks><c>VIRTIO_GPIO_MSG_SET_DIRECTION</c> (0x0003).</remarks>
    SetDirection = 0x0003,

    /// <summary>Get the level of a line.</summary>
    /// <remarks><c>VIRTIO_GPIO_MSG_GET_VALUE</c> (0x0004).</remarks>
    GetValue = 0x0004,

    /// <summary>Set the output value of a line.</summary>
    /// <remarks><c>VIRTIO_GPIO_MSG_SET_VALUE</c> (0x0005).</remarks>
    SetValue = 0x0005,

    /// <summary>Set the interrupt trigger type of a line (only with <see cref="GpioFeatures.Irq"/>).</summary>
    /// <remarks><c>VIRTIO_GPIO_MSG_SET_IRQ_TYPE</c> (0x0006); Linux uapi: <c>VIRTIO_GPIO_MSG_IRQ_TYPE</c>.</remarks>
    SetIrqType = 0x0006,
}
