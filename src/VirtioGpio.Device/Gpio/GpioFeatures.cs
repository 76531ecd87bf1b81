// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>Device-specific feature bits of the standard GPIO device, as masks (STANDARD.md §2).</summary>
public static class GpioFeatures
{
    /// <summary>
    /// The device supports interrupts on GPIO lines: the eventq exists and <see cref="GpioMessageType.SetIrqType"/>
    /// is allowed. <c>VIRTIO_GPIO_F_IRQ</c> (bit 0).
    /// </summary>
    public const ulong Irq = 1UL << 0;
}
