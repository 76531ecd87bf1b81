// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio.Draft;

/// <summary>
/// The <c>type</c> field of a draft virtio-gpio message (DRAFT.md §4.2; the v3 patch's <c>enum virtio_gpio_msg_type</c>).
/// Values equal the draft constants. The underlying type is the wire's <c>le16</c>, so unknown values are representable.
/// </summary>
public enum DraftGpioMessageType : ushort
{
    /// <summary>Request (export) a line. <c>VIRTIO_GPIO_MSG_GUEST_REQUEST</c> (0x01).</summary>
    Request = 0x01,

    /// <summary>Make a line an input. <c>VIRTIO_GPIO_MSG_GUEST_DIRECTION_INPUT</c> (0x02).</summary>
    DirectionInput = 0x02,

    /// <summary>Make a line an output driving <c>value</c>. <c>VIRTIO_GPIO_MSG_GUEST_DIRECTION_OUTPUT</c> (0x03).</summary>
    DirectionOutput = 0x03,

    /// <summary>Read a line's direction (1 = input, 0 = output). <c>VIRTIO_GPIO_MSG_GUEST_GET_DIRECTION</c> (0x04).</summary>
    GetDirection = 0x04,

    /// <summary>Read a line's level. <c>VIRTIO_GPIO_MSG_GUEST_GET_VALUE</c> (0x05).</summary>
    GetValue = 0x05,

    /// <summary>Set an output's level. <c>VIRTIO_GPIO_MSG_GUEST_SET_VALUE</c> (0x06).</summary>
    SetValue = 0x06,

    /// <summary>Asynchronous line change, device → driver only; sent exactly as 0x0011 with no mask bits (DRAFT.md §6).
    /// <c>VIRTIO_GPIO_MSG_HOST_LEVEL</c> (0x11).</summary>
    HostLevel = 0x11,
}
