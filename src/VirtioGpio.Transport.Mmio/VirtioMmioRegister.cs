// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.Mmio;

/// <summary>Register offsets of the virtio-mmio register file (VIRTIO 1.3 §4.2.2 "MMIO Device Register Layout").</summary>
public enum VirtioMmioRegister
{
    /// <summary>MagicValue (R): 0x74726976 ("virt").</summary>
    MagicValue = 0x000,

    /// <summary>Version (R): 2, or 1 for the legacy interface.</summary>
    Version = 0x004,

    /// <summary>DeviceID (R): the virtio device ID.</summary>
    DeviceId = 0x008,

    /// <summary>VendorID (R).</summary>
    VendorId = 0x00c,

    /// <summary>DeviceFeatures (R): 32 feature bits selected by DeviceFeaturesSel.</summary>
    DeviceFeatures = 0x010,

    /// <summary>DeviceFeaturesSel (W).</summary>
    DeviceFeaturesSel = 0x014,

    /// <summary>DriverFeatures (W): 32 feature bits selected by DriverFeaturesSel.</summary>
    DriverFeatures = 0x020,

    /// <summary>DriverFeaturesSel (W).</summary>
    DriverFeaturesSel = 0x024,

    /// <summary>GuestPageSize (W, legacy only).</summary>
    LegacyGuestPageSize = 0x028,

    /// <summary>QueueSel (W).</summary>
    QueueSel = 0x030,

    /// <summary>QueueSizeMax (R), QueueNumMax in the legacy interface.</summary>
    QueueSizeMax = 0x034,

    /// <summary>QueueSize (W), QueueNum in the legacy interface.</summary>
    QueueSize = 0x038,

    /// <summary>QueueAlign (W, legacy only).</summary>
    LegacyQueueAlign = 0x03c,

    /// <summary>QueuePFN (RW, legacy only).</summary>
    LegacyQueuePfn = 0x040,

    /// <summary>QueueReady (RW).</summary>
    QueueReady = 0x044,

    /// <summary>QueueNotify (W).</summary>
    QueueNotify = 0x050,

    /// <summary>InterruptStatus (R): bit 0 used buffer, bit 1 configuration change.</summary>
    InterruptStatus = 0x060,

    /// <summary>InterruptACK (W).</summary>
    InterruptAck = 0x064,

    /// <summary>Status (RW): the device status field.</summary>
    Status = 0x070,

    /// <summary>QueueDescLow (W).</summary>
    QueueDescLow = 0x080,

    /// <summary>QueueDescHigh (W).</summary>
    QueueDescHigh = 0x084,

    /// <summary>QueueDriverLow (W): the avail ring.</summary>
    QueueDriverLow = 0x090,

    /// <summary>QueueDriverHigh (W).</summary>
    QueueDriverHigh = 0x094,

    /// <summary>QueueDeviceLow (W): the used ring.</summary>
    QueueDeviceLow = 0x0a0,

    /// <summary>QueueDeviceHigh (W).</summary>
    QueueDeviceHigh = 0x0a4,

    /// <summary>SHMSel (W): shared memory region select.</summary>
    ShmSel = 0x0ac,

    /// <summary>SHMLenLow (R).</summary>
    ShmLenLow = 0x0b0,

    /// <summary>SHMLenHigh (R).</summary>
    ShmLenHigh = 0x0b4,

    /// <summary>SHMBaseLow (R).</summary>
    ShmBaseLow = 0x0b8,

    /// <summary>SHMBaseHigh (R).</summary>
    ShmBaseHigh = 0x0bc,

    /// <summary>QueueReset (RW), with VIRTIO_F_RING_RESET.</summary>
    QueueReset = 0x0c0,

    /// <summary>ConfigGeneration (R).</summary>
    ConfigGeneration = 0x0fc,

    /// <summary>Start of the device-specific configuration space.</summary>
    Config = 0x100,
}
