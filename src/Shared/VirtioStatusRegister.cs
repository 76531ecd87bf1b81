// SPDX-License-Identifier: MIT
using VirtioGpio.Device;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Transport;

/// <summary>
/// The device status field as a register-file transport (virtio-mmio, virtio-pci) implements it:
/// the driver-written bits, feature negotiation at FEATURES_OK and activation at DRIVER_OK
/// (VIRTIO 1.3 §2.1 "Device Status Field", §3.1 "Device Initialization"). Compiled into each
/// transport assembly; not thread-safe (the transport's register lock serialises it).
/// </summary>
internal sealed class VirtioStatusRegister
{
    private const byte FeaturesOk = (byte)VirtioDeviceStatus.FeaturesOk;
    private const byte DriverOk = (byte)VirtioDeviceStatus.DriverOk;

    private readonly IVirtioDevice _device;

    public VirtioStatusRegister(IVirtioDevice device) => _device = device;

    /// <summary>The bits the driver set (DEVICE_NEEDS_RESET excluded).</summary>
    public byte Value { get; private set; }

    public bool IsDriverOk => (Value & DriverOk) != 0;

    /// <summary>FEATURES_OK set and DRIVER_OK not yet: the window in which queues are configured.</summary>
    public bool InQueueSetupWindow => (Value & (FeaturesOk | DriverOk)) == FeaturesOk;

    /// <summary>FEATURES_OK or DRIVER_OK set: driver features are frozen.</summary>
    public bool FeaturesFrozen => (Value & (FeaturesOk | DriverOk)) != 0;

    /// <summary>The value the driver reads: DEVICE_NEEDS_RESET is added once the device is running and broken.</summary>
    public byte Read() => _device.NeedsReset && IsDriverOk ? (byte)(Value | (byte)VirtioDeviceStatus.DeviceNeedsReset) : Value;

    /// <summary>Forgets every bit (the transport resets the device itself).</summary>
    public void Clear() => Value = 0;

    /// <summary>Applies a non-zero status write.</summary>
    /// <param name="requested">The byte the driver wrote.</param>
    /// <param name="driverFeatures">The features the driver accepted.</param>
    /// <param name="legacy">Legacy interface: there is no FEATURES_OK; features are accepted at DRIVER_OK.</param>
    /// <returns>What happened; <see cref="StatusWrite.DriverOk"/> asks the caller to activate the device.</returns>
    public StatusWrite Write(byte requested, ulong driverFeatures, bool legacy)
    {
        // DEVICE_NEEDS_RESET is the device's bit and cannot be written.
        requested &= unchecked((byte)~(byte)VirtioDeviceStatus.DeviceNeedsReset);

        // VIRTIO 1.3 §2.1.2 "Driver Requirements: Device Status Field": the driver never clears bits
        // (other than by writing 0, which the transport handles as a reset).
        if ((requested & Value) != Value)
        {
            return StatusWrite.ClearsBits;
        }

        byte added = (byte)(requested & ~Value);
        StatusWrite result = StatusWrite.Applied;
        if (!legacy && (added & FeaturesOk) != 0 && !_device.TryAcceptFeatures(driverFeatures))
        {
            // VIRTIO 1.3 §3.1.1: the device leaves FEATURES_OK clear when the driver accepted
            // features that were not offered; the driver reads the status back and gives up.
            requested &= unchecked((byte)~FeaturesOk);
            result = StatusWrite.FeaturesRefused;
        }

        if ((added & DriverOk) != 0)
        {
            bool negotiated = legacy ? _device.TryAcceptFeatures(driverFeatures) : (requested & FeaturesOk) != 0;
            if (!negotiated)
            {
                Value = (byte)(requested & ~DriverOk);
                return StatusWrite.DriverOkWithoutFeatures;
            }

            Value = requested;
            return StatusWrite.DriverOk;
        }

        Value = requested;
        return result;
    }

    /// <summary>DRIVER_OK: activates the device and enables every queue the driver set up.</summary>
    /// <param name="memory">Guest memory.</param>
    /// <param name="interrupts">The transport's interrupt sink.</param>
    /// <param name="queueSetUp">Whether the driver made queue <c>i</c> ready.</param>
    /// <param name="onQueueFailed">Called for a queue the device could not enable.</param>
    public void Activate(IGuestMemory memory, IVirtioInterruptSink interrupts, Func<int, bool> queueSetUp, Action<int, VirtqueueError> onQueueFailed)
    {
        _device.Activate(memory, interrupts);
        for (int i = 0; i < _device.QueueCount; i++)
        {
            if (queueSetUp(i))
            {
                VirtqueueError error = _device.SetQueueReady(i, true);
                if (error != VirtqueueError.None)
                {
                    onQueueFailed(i, error);
                }
            }
        }
    }
}
