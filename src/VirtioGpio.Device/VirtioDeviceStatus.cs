// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device;

/// <summary>The device status field (VIRTIO 1.3 §2.1 "Device Status Field").</summary>
[Flags]
public enum VirtioDeviceStatus : byte
{
    /// <summary>Reset (0).</summary>
    Reset = 0,

    /// <summary>ACKNOWLEDGE: the guest found the device.</summary>
    Acknowledge = 1,

    /// <summary>DRIVER: the guest knows how to drive it.</summary>
    Driver = 2,

    /// <summary>DRIVER_OK: the driver is set up and ready.</summary>
    DriverOk = 4,

    /// <summary>FEATURES_OK: feature negotiation is complete.</summary>
    FeaturesOk = 8,

    /// <summary>DEVICE_NEEDS_RESET: the device hit an unrecoverable error.</summary>
    DeviceNeedsReset = 64,

    /// <summary>FAILED: the guest gave up on the device.</summary>
    Failed = 128,
}
