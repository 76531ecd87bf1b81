// SPDX-License-Identifier: MIT
using VirtioGpio.Device;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Testing;
using VirtioGpio.Transport.Pci;
using VirtioGpio.Transport.Tests.Infrastructure;

namespace VirtioGpio.Transport.Tests.Pci;

/// <summary>
/// Replays what Linux 6.1's <c>drivers/virtio/virtio_pci_modern_dev.c</c> (<c>vp_modern_probe</c>,
/// <c>virtio_pci_find_capability</c>, <c>vp_modern_map_capability</c>) and
/// <c>virtio_pci_modern.c</c> / <c>virtio_pci_common.c</c> (<c>vp_reset</c>, <c>vp_get_features</c>,
/// <c>vp_finalize_features</c>, <c>vp_find_vqs_msix</c>, <c>setup_vq</c>,
/// <c>vp_modern_set_queue_enable</c>, <c>vp_notify</c>, <c>vp_interrupt</c>, <c>del_vq</c>) do to a
/// virtio-pci modern function, access by access.
/// </summary>
internal sealed class LinuxPciDriver(PciBus bus, GuestSide guest)
{
    // struct virtio_pci_common_cfg offsets.
    private const ulong DeviceFeatureSelect = 0x00;
    private const ulong DeviceFeature = 0x04;
    private const ulong DriverFeatureSelect = 0x08;
    private const ulong DriverFeature = 0x0C;
    private const ulong ConfigMsixVector = 0x10;
    private const ulong NumQueues = 0x12;
    private const ulong DeviceStatus = 0x14;
    private const ulong QueueSelect = 0x16;
    private const ulong QueueSize = 0x18;
    private const ulong QueueMsixVector = 0x1A;
    private const ulong QueueEnable = 0x1C;
    private const ulong QueueNotifyOff = 0x1E;
    private const ulong QueueDesc = 0x20;
    private const ulong QueueDriver = 0x28;
    private const ulong QueueDevice = 0x30;

    public ulong Common { get; private set; }

    public ulong Isr { get; private set; }

    public ulong DeviceCfg { get; private set; }

    public ulong Notify { get; private set; }

    public uint NotifyMultiplier { get; private set; }

    public int PciCfgCap { get; private set; }

    public int MsixCap { get; private set; }

    public byte[] Config { get; } = new byte[8];

    public byte Status => bus.Bar8(Common + DeviceStatus);

    public ushort QueueCount => bus.Bar16(Common + NumQueues);

    /// <summary>vp_modern_probe: identity and capability discovery. Returns false where Linux fails.</summary>
    public bool Discover()
    {
        ushort vendor = bus.Config16(0x00);
        ushort device = bus.Config16(0x02);
        if (vendor != 0x1AF4 || device is < 0x1040 or > 0x107F || bus.Config8(0x08) < 1)
        {
            return false; // not a modern virtio-pci device
        }

        if ((bus.Config16(0x06) & 0x10) == 0)
        {
            return false; // no capability list
        }

        // Walk the capability list (pci_find_capability / virtio_pci_find_capability), bounded.
        int pointer = bus.Config8(0x34) & ~3;
        for (int guard = 0; pointer != 0 && guard < 48; guard++)
        {
            byte id = bus.Config8(pointer);
            if (id == 0x11)
            {
                MsixCap = pointer;
            }
            else if (id == 0x09)
            {
                byte type = bus.Config8(pointer + 3);
                byte bar = bus.Config8(pointer + 4);
                uint offset = bus.Config32(pointer + 8);
                uint length = bus.Config32(pointer + 12);
                if (bar == 0 && length > 0)
                {
                    switch ((VirtioPciCapabilityType)type)
                    {
                        case VirtioPciCapabilityType.CommonConfig when length >= 0x38:
                            Common = offset;
                            break;
                        case VirtioPciCapabilityType.IsrConfig:
                            Isr = offset;
                            break;
                        case VirtioPciCapabilityType.DeviceConfig:
                            DeviceCfg = offset;
                            break;
                        case VirtioPciCapabilityType.NotifyConfig:
                            Notify = offset;
                            NotifyMultiplier = bus.Config32(pointer + 16);
                            break;
                    }
                }

                if ((VirtioPciCapabilityType)type == VirtioPciCapabilityType.PciConfig)
                {
                    PciCfgCap = pointer;
                }
            }

            pointer = bus.Config8(pointer + 1) & ~3;
        }

        // "virtio_pci: leaving for legacy driver" unless common, ISR and notify exist.
        return Isr != 0 && Notify != 0 && DeviceCfg != 0 && PciCfgCap != 0 && (NotifyMultiplier & 1) == 0;
    }

    /// <summary>Programs BAR 0/1 (as firmware does) and enables memory decoding and bus mastering.</summary>
    public ulong AssignBar(ulong address)
    {
        bus.WriteConfig32(0x10, 0xFFFF_FFFF);
        bus.WriteConfig32(0x14, 0xFFFF_FFFF);
        ulong mask = (bus.Config32(0x10) & ~0xFUL) | ((ulong)bus.Config32(0x14) << 32);
        ulong size = ~mask + 1;
        bus.WriteConfig32(0x10, unchecked((uint)address));
        bus.WriteConfig32(0x14, (uint)(address >> 32));
        bus.WriteConfig16(0x04, 0x0006);
        return size;
    }

    /// <summary>virtio_dev_probe up to FEATURES_OK, then the config read. Returns false where Linux fails.</summary>
    public bool Negotiate(ulong driverFeatureMask)
    {
        // vp_reset: write 0 and wait until the status reads back 0.
        bus.WriteBar8(Common + DeviceStatus, 0);
        if (Status != 0)
        {
            return false;
        }

        AddStatus(1);
        AddStatus(2);

        bus.WriteBar32(Common + DeviceFeatureSelect, 0);
        ulong features = bus.Bar32(Common + DeviceFeature);
        bus.WriteBar32(Common + DeviceFeatureSelect, 1);
        features |= (ulong)bus.Bar32(Common + DeviceFeature) << 32;
        ulong accepted = features & driverFeatureMask;
        if ((accepted & VirtioFeatures.Version1) == 0)
        {
            return false; // "virtio: device uses modern interface but does not have VIRTIO_F_VERSION_1"
        }

        guest.ConfigureRings(accepted);
        bus.WriteBar32(Common + DriverFeatureSelect, 0);
        bus.WriteBar32(Common + DriverFeature, unchecked((uint)accepted));
        bus.WriteBar32(Common + DriverFeatureSelect, 1);
        bus.WriteBar32(Common + DriverFeature, (uint)(accepted >> 32));
        AddStatus(8);
        if ((Status & 8) == 0)
        {
            return false;
        }

        byte generation;
        do
        {
            generation = bus.Bar8(Common + 0x15);
            for (int i = 0; i < Config.Length; i++)
            {
                Config[i] = bus.Bar8(DeviceCfg + (ulong)i);
            }
        }
        while (generation != bus.Bar8(Common + 0x15));

        return true;
    }

    /// <summary>vp_find_vqs_msix: enable MSI-X and map the config vector 0. Returns false on NO_VECTOR.</summary>
    public bool EnableMsix()
    {
        bus.WriteConfig16(MsixCap + 2, 0x8000);
        bus.WriteBar16(Common + ConfigMsixVector, 0);
        return bus.Bar16(Common + ConfigMsixVector) != VirtioPciTransport.NoVector;
    }

    /// <summary>Programs MSI-X table entry <paramref name="vector"/> and unmasks it (pci_msi / msix_setup_entries).</summary>
    public void ProgramVector(ushort vector, ulong address, uint data)
    {
        ulong entry = VirtioPciTransport.MsixTableOffset + (16UL * vector);
        bus.WriteBar32(entry, unchecked((uint)address));
        bus.WriteBar32(entry + 4, (uint)(address >> 32));
        bus.WriteBar32(entry + 8, data);
        bus.WriteBar32(entry + 12, 0);
    }

    /// <summary>setup_vq (+ vp_modern_set_queue_enable). Returns false where Linux fails.</summary>
    public bool SetupQueue(ushort index, SimulatedVirtioDriver ring, ushort? vector)
    {
        if (index >= QueueCount)
        {
            return false;
        }

        bus.WriteBar16(Common + QueueSelect, index);
        ushort max = bus.Bar16(Common + QueueSize);
        if (max == 0 || bus.Bar16(Common + QueueEnable) != 0)
        {
            return false;
        }

        bus.WriteBar16(Common + QueueSize, (ushort)ring.QueueSize);
        ushort notifyOff = bus.Bar16(Common + QueueNotifyOff);
        Assert.Equal(index, notifyOff);
        bus.WriteBar64TwoPart(Common + QueueDesc, ring.Layout.DescriptorTable.Value);
        bus.WriteBar64TwoPart(Common + QueueDriver, ring.Layout.AvailRing.Value);
        bus.WriteBar64TwoPart(Common + QueueDevice, ring.Layout.UsedRing.Value);
        if (vector is ushort v)
        {
            bus.WriteBar16(Common + QueueMsixVector, v);
            if (bus.Bar16(Common + QueueMsixVector) == VirtioPciTransport.NoVector)
            {
                return false;
            }
        }

        bus.WriteBar16(Common + QueueEnable, 1);
        return bus.Bar16(Common + QueueEnable) == 1;
    }

    public void DriverReady() => AddStatus(4);

    /// <summary>vp_notify: a 16-bit write of the queue index at its notify address.</summary>
    public void Kick(ushort queue) => bus.WriteBar16(Notify + (queue * (ulong)NotifyMultiplier), queue);

    /// <summary>vp_interrupt (INTx): read-to-clear ISR.</summary>
    public byte ReadIsr() => bus.Bar8(Isr);

    /// <summary>Removal: reset, then del_vq: unmap each vector.</summary>
    public void Remove()
    {
        bus.WriteBar8(Common + DeviceStatus, 0);
        for (ushort i = 0; i < QueueCount; i++)
        {
            bus.WriteBar16(Common + QueueSelect, i);
            bus.WriteBar16(Common + QueueMsixVector, VirtioPciTransport.NoVector);
            _ = bus.Bar16(Common + QueueMsixVector);
        }

        bus.WriteConfig16(MsixCap + 2, 0);
    }

    public DriverCompletion Request(GpioMessageType type, ushort gpio, uint value)
    {
        guest.AddRequest(type, gpio, value);
        Kick(0);
        return guest.TakeSingleCompletion(0);
    }

    private void AddStatus(byte bit) => bus.WriteBar8(Common + DeviceStatus, (byte)(Status | bit));
}
