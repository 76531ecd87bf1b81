// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.IntegrationTests.Infrastructure;
using VirtioGpio.Transport.Mmio;
using VirtioGpio.Transport.Pci;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>
/// The in-process replay is configured like the QEMU side wherever our API lets an embedder choose (device options
/// as the daemon builds them, VendorID, ring sizes, PCI IDs, MSI-X vector count), so that only real behavioural
/// differences remain; those are in <see cref="KnownQemuDifferences"/>.
/// </summary>
public static class QemuMatchingOptions
{
    /// <summary>The daemon's <c>--names</c>, and the in-process device's line names.</summary>
    public const string LineNames = "led0,led1,in2,in3,rise4,fall5,both6,level7";

    /// <summary>The line whose input level the host sets to 1 on both sides before the scripts run.</summary>
    public const int HighInputLine = 2;

    /// <summary>QEMU's virtio-mmio VendorID: "QEMU" in little-endian ASCII.</summary>
    public const uint QemuMmioVendorId = 0x554D4551;

    /// <summary>QEMU's virtio-mmio QueueNumMax: VIRTQUEUE_MAX_SIZE for every queue, whatever the device.</summary>
    public const int QemuMmioQueueMax = 1024;

    /// <summary>vhost-user-gpio-pci's queue_size on reset: vhost-user-base's <c>vq_size</c> default.</summary>
    public const int QemuPciQueueSize = 64;

    /// <summary>The device options: what the daemon builds (DeviceWiring.CreateStandard) with the ring size QEMU reports.</summary>
    public static VirtioGpioDeviceOptions Device(GuestTransport transport)
    {
        int max = transport == GuestTransport.Pci ? QemuPciQueueSize : QemuMmioQueueMax;
        return new VirtioGpioDeviceOptions
        {
            Backend = new SimulatedGpioLineBackend(new GpioLineNames(LineNames.Split(','))),
            RequestQueueMaxSize = max,
            EventQueueMaxSize = max,
        };
    }

    /// <summary>Our virtio-mmio transport with QEMU's VendorID.</summary>
    public static VirtioMmioTransportOptions Mmio() => new() { VendorId = QemuMmioVendorId };

    /// <summary>Our virtio-pci function with vhost-user-gpio-pci's IDs and vector count.</summary>
    public static VirtioPciTransportOptions Pci() => new()
    {
        SubsystemVendorId = 0x1AF4,
        SubsystemId = 0x1100,
        ClassCode = 0x078000,    // communication controller, other (PCI_CLASS_COMMUNICATION_OTHER)
        MsixVectorCount = 1,     // vhost-user-gpio-pci: a single vector
    };

    /// <summary>A replayer for <paramref name="transport"/>, with the host-set input level applied.</summary>
    public static TransportReplayer CreateReplayer(GuestTransport transport)
    {
        TransportReplayer r = transport == GuestTransport.Pci
            ? new PciReplayer(Device(transport), Pci())
            : new MmioReplayer(Device(transport), Mmio());
        r.Lines.SetInputLevel(HighInputLine, LineValue.High);
        return r;
    }
}
