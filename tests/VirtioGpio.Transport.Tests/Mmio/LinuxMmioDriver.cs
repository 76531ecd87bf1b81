// SPDX-License-Identifier: MIT
using VirtioGpio.Device;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Testing;
using VirtioGpio.Transport.Mmio;
using VirtioGpio.Transport.Tests.Infrastructure;

namespace VirtioGpio.Transport.Tests.Mmio;

/// <summary>
/// Replays, register by register, what Linux 6.1's <c>drivers/virtio/virtio_mmio.c</c> and the
/// virtio core do to a virtio-mmio device: probe (<c>virtio_mmio_probe</c>), reset and status
/// handshake (<c>virtio_dev_probe</c>), feature negotiation (<c>vm_get_features</c>,
/// <c>vm_finalize_features</c>), config reads inside the generation loop (<c>virtio_cread_bytes</c>),
/// queue setup (<c>vm_setup_vq</c>), DRIVER_OK (<c>virtio_device_ready</c>), notification
/// (<c>vm_notify</c>), the interrupt handler (<c>vm_interrupt</c>) and removal (<c>vm_del_vqs</c>).
/// </summary>
internal sealed class LinuxMmioDriver(MmioBus bus, GuestSide guest)
{
    public const byte Acknowledge = 1;
    public const byte Driver = 2;
    public const byte DriverOk = 4;
    public const byte FeaturesOk = 8;

    public uint DeviceId { get; private set; }

    public ulong DeviceFeatures { get; private set; }

    public byte[] Config { get; } = new byte[8];

    /// <summary>virtio_mmio_probe + virtio_dev_probe up to FEATURES_OK. Returns false where Linux fails the probe.</summary>
    public bool Probe(ulong driverFeatureMask)
    {
        if (bus.Read32(VirtioMmioRegister.MagicValue) != VirtioMmioTransport.MagicValue)
        {
            return false;
        }

        uint version = bus.Read32(VirtioMmioRegister.Version);
        if (version is < 1 or > 2)
        {
            return false;
        }

        DeviceId = bus.Read32(VirtioMmioRegister.DeviceId);
        if (DeviceId == 0)
        {
            return false; // a placeholder device: -ENODEV
        }

        _ = bus.Read32(VirtioMmioRegister.VendorId);
        if (version == 1)
        {
            bus.Write32(VirtioMmioRegister.LegacyGuestPageSize, 4096);
        }

        // register_virtio_device → virtio_reset_device, then ACKNOWLEDGE; driver bind → DRIVER.
        bus.Write32(VirtioMmioRegister.Status, 0);
        AddStatus(Acknowledge);
        AddStatus(Driver);

        // vm_get_features: high word first.
        bus.Write32(VirtioMmioRegister.DeviceFeaturesSel, 1);
        ulong features = (ulong)bus.Read32(VirtioMmioRegister.DeviceFeatures) << 32;
        bus.Write32(VirtioMmioRegister.DeviceFeaturesSel, 0);
        features |= bus.Read32(VirtioMmioRegister.DeviceFeatures);
        DeviceFeatures = features;

        ulong accepted = features & driverFeatureMask;
        if (version == 2 && (accepted & VirtioFeatures.Version1) == 0)
        {
            return false; // "New virtio-mmio devices (version 2) must provide VIRTIO_F_VERSION_1 feature!"
        }

        // The rings follow what was negotiated: Linux publishes used_event with EVENT_IDX and sends
        // every message as one indirect descriptor with INDIRECT_DESC.
        guest.ConfigureRings(accepted);

        // vm_finalize_features: high word first.
        bus.Write32(VirtioMmioRegister.DriverFeaturesSel, 1);
        bus.Write32(VirtioMmioRegister.DriverFeatures, unchecked((uint)(accepted >> 32)));
        bus.Write32(VirtioMmioRegister.DriverFeaturesSel, 0);
        bus.Write32(VirtioMmioRegister.DriverFeatures, unchecked((uint)accepted));

        if (version == 2)
        {
            AddStatus(FeaturesOk);
            if ((bus.Read32(VirtioMmioRegister.Status) & FeaturesOk) == 0)
            {
                return false; // "virtio: device refuses features"
            }
        }

        // gpio-virtio probe: virtio_cread_bytes of the whole config, 1 byte at a time, in a
        // generation-counter retry loop.
        uint generation;
        do
        {
            generation = version == 2 ? bus.Read32(VirtioMmioRegister.ConfigGeneration) : 0;
            for (int i = 0; i < Config.Length; i++)
            {
                Config[i] = bus.Read8((ulong)VirtioMmioRegister.Config + (ulong)i);
            }
        }
        while (version == 2 && generation != bus.Read32(VirtioMmioRegister.ConfigGeneration));

        return true;
    }

    /// <summary>vm_setup_vq for queue <paramref name="index"/>. Returns false where Linux gets -ENOENT.</summary>
    public bool SetupQueue(int index, SimulatedVirtioDriver ring)
    {
        bus.Write32(VirtioMmioRegister.QueueSel, (uint)index);
        bool legacy = bus.Read32(VirtioMmioRegister.Version) == 1;
        if (bus.Read32(legacy ? VirtioMmioRegister.LegacyQueuePfn : VirtioMmioRegister.QueueReady) != 0)
        {
            return false; // queue already set up
        }

        uint max = bus.Read32(VirtioMmioRegister.QueueSizeMax);
        if (max == 0 || max < (uint)ring.QueueSize)
        {
            return false;
        }

        bus.Write32(VirtioMmioRegister.QueueSize, (uint)ring.QueueSize);
        if (legacy)
        {
            bus.Write32(VirtioMmioRegister.LegacyQueueAlign, 4096);
            bus.Write32(VirtioMmioRegister.LegacyQueuePfn, (uint)(ring.Layout.DescriptorTable.Value / 4096));
            return bus.Read32(VirtioMmioRegister.LegacyQueuePfn) != 0;
        }

        bus.Write64(VirtioMmioRegister.QueueDescLow, ring.Layout.DescriptorTable.Value);
        bus.Write64(VirtioMmioRegister.QueueDriverLow, ring.Layout.AvailRing.Value);
        bus.Write64(VirtioMmioRegister.QueueDeviceLow, ring.Layout.UsedRing.Value);
        bus.Write32(VirtioMmioRegister.QueueReady, 1);
        return bus.Read32(VirtioMmioRegister.QueueReady) == 1;
    }

    /// <summary>virtio_device_ready.</summary>
    public void DriverReady() => AddStatus(DriverOk);

    /// <summary>vm_notify.</summary>
    public void Notify(int queue) => bus.Write32(VirtioMmioRegister.QueueNotify, (uint)queue);

    /// <summary>vm_interrupt: read and acknowledge InterruptStatus. Returns the bits seen.</summary>
    public uint HandleInterrupt()
    {
        uint status = bus.Read32(VirtioMmioRegister.InterruptStatus);
        bus.Write32(VirtioMmioRegister.InterruptAck, status);
        return status;
    }

    /// <summary>Removal: virtio_reset_device, then vm_del_vq for each queue.</summary>
    public bool Remove(int queueCount)
    {
        bus.Write32(VirtioMmioRegister.Status, 0);
        bool legacy = bus.Read32(VirtioMmioRegister.Version) == 1;
        for (int i = 0; i < queueCount; i++)
        {
            bus.Write32(VirtioMmioRegister.QueueSel, (uint)i);
            if (legacy)
            {
                bus.Write32(VirtioMmioRegister.LegacyQueuePfn, 0);
            }
            else
            {
                bus.Write32(VirtioMmioRegister.QueueReady, 0);
                if (bus.Read32(VirtioMmioRegister.QueueReady) != 0)
                {
                    return false; // WARN_ON in vm_del_vq
                }
            }
        }

        return true;
    }

    public uint Status => bus.Read32(VirtioMmioRegister.Status);

    private void AddStatus(byte bit) => bus.Write32(VirtioMmioRegister.Status, bus.Read32(VirtioMmioRegister.Status) | bit);

    /// <summary>Sends a request through the requestq and handles the interrupt as Linux does.</summary>
    public DriverCompletion Request(GpioMessageType type, ushort gpio, uint value, int responseLength = 2)
    {
        guest.AddRequest(type, gpio, value, responseLength);
        Notify(0);
        Assert.Equal(1u, HandleInterrupt() & 1u);
        return guest.TakeSingleCompletion(0);
    }
}
