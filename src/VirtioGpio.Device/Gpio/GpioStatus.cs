// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>The <c>status</c> byte of a requestq response (STANDARD.md §4.3). There are no error sub-codes.</summary>
public enum GpioStatus : byte
{
    /// <summary>Success.</summary>
    /// <remarks><c>VIRTIO_GPIO_STATUS_OK</c> (0x0).</remarks>
    Ok = 0x0,

    /// <summary>Failure; the value byte(s) are zero.</summary>
    /// <remarks><c>VIRTIO_GPIO_STATUS_ERR</c> (0x1).</remarks>
    Err = 0x1,
}
