// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.Pci;

/// <summary><c>cfg_type</c> of a virtio vendor-specific PCI capability (VIRTIO 1.3 §4.1.4 "Virtio Structure PCI Capabilities").</summary>
public enum VirtioPciCapabilityType : byte
{
    /// <summary>VIRTIO_PCI_CAP_COMMON_CFG.</summary>
    CommonConfig = 1,

    /// <summary>VIRTIO_PCI_CAP_NOTIFY_CFG.</summary>
    NotifyConfig = 2,

    /// <summary>VIRTIO_PCI_CAP_ISR_CFG.</summary>
    IsrConfig = 3,

    /// <summary>VIRTIO_PCI_CAP_DEVICE_CFG.</summary>
    DeviceConfig = 4,

    /// <summary>VIRTIO_PCI_CAP_PCI_CFG: the configuration-space access window.</summary>
    PciConfig = 5,
}
