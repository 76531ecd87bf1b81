// SPDX-License-Identifier: MIT
using System.Globalization;
using VirtioGpio.IntegrationTests.Infrastructure;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>Where the differential guest keeps its rings and finds the device, on both sides of the comparison.</summary>
public static class DifferentialLayout
{
    /// <summary>
    /// Guest-physical base of the RAM window the scripts put rings and buffers in. The guest kernel is told not to
    /// use it (<c>memmap=</c>), so <c>devmem</c> may write it and QEMU hands it to the back-end in SET_VRING_ADDR; the
    /// in-process replay has one <see cref="VirtioGpio.Device.Memory.GuestMemoryRegion"/> at the same address.
    /// </summary>
    public const ulong RamBase = 0x0800_0000;

    /// <summary>Size of the reserved RAM window.</summary>
    public const int RamSize = 1 << 20;

    /// <summary>QEMU 10's microvm places virtio-mmio slots from here, <see cref="MmioSlotStride"/> apart.</summary>
    public const ulong MmioSlotBase = 0xfeb0_0000;

    /// <summary>Distance between virtio-mmio slots on microvm.</summary>
    public const ulong MmioSlotStride = 0x200;

    /// <summary>How many slots the guest probes for the GPIO device (DeviceID 41).</summary>
    public const int MmioSlotCount = 32;

    /// <summary>The virtio-pci modern device ID of GPIO (0x1040 + 41).</summary>
    public const int PciDeviceId = 0x1069;

    /// <summary>
    /// Kernel command-line additions of a differential boot: reserve the RAM window (<c>memmap=SIZE$BASE</c>; QEMU gets
    /// the argument list directly, so the <c>$</c> needs no shell escaping), wait for no gpiochip, and leave every virtio
    /// transport unclaimed so that /dev/mem and sysfs reach QEMU's registers.
    /// </summary>
    public static string KernelArguments =>
        string.Create(CultureInfo.InvariantCulture, $"memmap={RamSize >> 10}K$0x{RamBase:x} vgpio.nochip=1 vgpio.skipmod=virtio_pci,virtio_mmio,gpio-virtio");

    /// <summary>The transport of a script set.</summary>
    public static string Describe(GuestTransport transport) => transport == GuestTransport.Pci ? "virtio-pci (q35)" : "virtio-mmio (microvm)";
}
