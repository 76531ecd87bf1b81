// SPDX-License-Identifier: MIT
namespace VirtioGpio.IntegrationTests.Infrastructure;

/// <summary>How QEMU presents the vhost-user GPIO device to the guest.</summary>
public enum GuestTransport
{
    /// <summary><c>vhost-user-gpio-pci</c> on q35 (virtio-pci modern).</summary>
    Pci,

    /// <summary><c>vhost-user-gpio-device</c> on microvm (virtio-mmio version 2, ACPI-described).</summary>
    Mmio,
}
