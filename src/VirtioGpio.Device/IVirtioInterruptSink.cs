// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device;

/// <summary>
/// Where a device sends its notifications to the driver. A transport implements it: virtio-mmio
/// sets InterruptStatus bits and raises its line, virtio-pci sends an MSI-X message or asserts
/// INTx, vhost-user writes the call eventfd. May be called from the device's worker thread or from
/// the thread that delivered a host line event; implementations must not call back into the device.
/// </summary>
public interface IVirtioInterruptSink
{
    /// <summary>A used-buffer notification for <paramref name="queueIndex"/> (VIRTIO 1.3 §2.3 "Notifications").</summary>
    /// <param name="queueIndex">The queue whose used ring changed.</param>
    void NotifyUsedBuffers(int queueIndex);

    /// <summary>A configuration-change notification (also sent after DEVICE_NEEDS_RESET is set).</summary>
    void NotifyConfigChange();
}
