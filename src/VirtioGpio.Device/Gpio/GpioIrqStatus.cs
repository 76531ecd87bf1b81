// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>The <c>status</c> byte of an eventq response (STANDARD.md §8).</summary>
public enum GpioIrqStatus : byte
{
    /// <summary>The pair is returned without an interrupt (line disabled, discarded, or malformed pair).</summary>
    /// <remarks><c>VIRTIO_GPIO_IRQ_STATUS_INVALID</c> (0x0).</remarks>
    Invalid = 0x0,

    /// <summary>An interrupt occurred on the line.</summary>
    /// <remarks><c>VIRTIO_GPIO_IRQ_STATUS_VALID</c> (0x1).</remarks>
    Valid = 0x1,
}
