// SPDX-License-Identifier: MIT
using VirtioGpio.Device;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Testing;
using VirtioGpio.Transport.Pci;
using VirtioGpio.Transport.Tests.Infrastructure;

namespace VirtioGpio.Transport.Tests.Pci;

public sealed class VirtioPciTransportTests : IDisposable
{
    private const ulong LinuxFeatures = GpioFeatures.Irq | VirtioFeatures.RingIndirectDesc | VirtioFeatures.RingEventIdx | VirtioFeatures.Version1;
    private const ulong MsiAddress = 0xFEE0_0000;

    private readonly GuestSide _guest = new();
    private readonly RecordingPciInterrupts _interrupts = new();
    private readonly VirtioPciTransport _transport;
    private readonly PciBus _bus;
    private readonly LinuxPciDriver _linux;

    public VirtioPciTransportTests()
    {
        _transport = new VirtioPciTransport(_guest.Device, _guest.Memory, _interrupts);
        _bus = new PciBus(_transport);
        _linux = new LinuxPciDriver(_bus, _guest);
    }

    public void Dispose() => _guest.Dispose();

    private void BringUpMsix()
    {
        Assert.True(_linux.Discover());
        _linux.AssignBar(0xC000_0000);
        Assert.True(_linux.Negotiate(LinuxFeatures));
        Assert.True(_linux.EnableMsix());
        for (ushort v = 0; v < 3; v++)
        {
            _linux.ProgramVector(v, MsiAddress, 0x40u + v);
        }

        Assert.True(_linux.SetupQueue(0, _guest.RequestQueue, vector: 1));
        Assert.True(_linux.SetupQueue(1, _guest.EventQueue, vector: 2));
        _linux.DriverReady();
    }

    [Fact]
    [Trait("Spec", "PCI-Linux")]
    public void ConfigSpace_IdentifiesAModernVirtioGpioFunctionWithAllCapabilities()
    {
        Assert.Equal(0x1AF4, _bus.Config16(0x00));
        Assert.Equal(0x1069, _bus.Config16(0x02)); // 0x1040 + 41
        Assert.Equal(1, _bus.Config8(0x08));
        Assert.Equal(0x1AF4, _bus.Config16(0x2C));
        Assert.Equal(1, _bus.Config8(0x3D)); // INTA#

        Assert.True(_linux.Discover());
        Assert.NotEqual(0, _linux.MsixCap);
        Assert.Equal(VirtioPciTransport.NotifyOffMultiplier, _linux.NotifyMultiplier);
        Assert.Equal(2, _bus.Config16(_linux.MsixCap + 2) & 0x7FF); // table size - 1: two queues + config = 3 vectors
    }

    [Fact]
    [Trait("Spec", "PCI-Linux")]
    public void Bar_SizingReturnsThe64BitMemoryBarSize()
    {
        Assert.Equal(4u, _bus.Config32(0x10) & 0xF); // 64-bit, memory, non-prefetchable
        ulong size = _linux.AssignBar(0x1_2345_8000);
        Assert.Equal(VirtioPciTransport.BarSize, size);
        Assert.Equal(0x1_2345_8000UL, _transport.BarAddress);
        Assert.True(_transport.MemorySpaceEnabled);
    }

    [Fact]
    [Trait("Spec", "PCI-Linux")]
    public void LinuxModernSequence_WithMsix_ServesRequestsAndSignalsThePerQueueVector()
    {
        BringUpMsix();
        Assert.Equal(15, _linux.Status);
        Assert.Equal(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0 }, _linux.Config);

        DriverCompletion completion = _linux.Request(GpioMessageType.GetDirection, 5, 0);
        Assert.Equal(2u, completion.Length);
        Assert.Equal(GpioStatus.Ok, (GpioStatus)completion.Written.Span[0]);
        Assert.Equal([(MsiAddress, 0x41u)], _interrupts.Messages);
        Assert.False(_interrupts.Intx);

        // gpiomon: arm line 2 with an edge type; a host edge signals the eventq vector.
        Assert.Equal(new byte[] { 0, 0 }, _linux.Request(GpioMessageType.SetDirection, 2, 2).Written.ToArray());
        Assert.Equal(new byte[] { 0, 0 }, _linux.Request(GpioMessageType.SetIrqType, 2, (uint)GpioIrqType.EdgeRising).Written.ToArray());
        _guest.ArmIrq(2);
        _linux.Kick(1);
        _interrupts.Messages.Clear();
        _guest.Lines.SetInputLevel(2, LineValue.High);

        Assert.Equal([(MsiAddress, 0x42u)], _interrupts.Messages);
        DriverCompletion irq = _guest.TakeSingleCompletion(1);
        Assert.Equal(1u, irq.Length);
        Assert.Equal((byte)GpioIrqStatus.Valid, irq.Written.Span[0]);
    }

    [Fact]
    [Trait("Spec", "PCI-Linux")]
    public void LinuxModernSequence_WithIntx_UsesIsrReadToClear()
    {
        Assert.True(_linux.Discover());
        _linux.AssignBar(0xC000_0000);
        Assert.True(_linux.Negotiate(LinuxFeatures));
        Assert.True(_linux.SetupQueue(0, _guest.RequestQueue, vector: null));
        _linux.DriverReady();

        _guest.AddRequest(GpioMessageType.GetValue, 1, 0);
        _linux.Kick(0);
        Assert.True(_interrupts.Intx);
        Assert.Equal(1, _linux.ReadIsr());
        Assert.False(_interrupts.Intx);
        Assert.Equal(0, _linux.ReadIsr()); // read-to-clear
        Assert.Equal(2u, _guest.TakeSingleCompletion(0).Length);
        Assert.Empty(_interrupts.Messages);
    }

    [Fact]
    [Trait("Spec", "PCI-Linux")]
    public void LinuxRemoval_ResetsTheDeviceAndUnmapsVectors()
    {
        BringUpMsix();
        _linux.Remove();
        Assert.Equal(0, _linux.Status);
        Assert.False(_guest.Device.IsActive);
        _bus.WriteBar16(0x16, 0);
        Assert.Equal(VirtioPciTransport.NoVector, _bus.Bar16(0x1A));
        Assert.Equal(0, _bus.Bar16(0x1C)); // queue_enable cleared by reset
    }

    [Fact]
    public void MaskedVector_SetsThePendingBitAndDeliversOnUnmask()
    {
        BringUpMsix();
        ulong entry1 = VirtioPciTransport.MsixTableOffset + 16;
        _bus.WriteBar32(entry1 + 12, 1); // mask vector 1
        _guest.AddRequest(GpioMessageType.GetValue, 0, 0);
        _linux.Kick(0);

        Assert.Empty(_interrupts.Messages);
        Assert.Equal(2u, _bus.Bar32(VirtioPciTransport.MsixPbaOffset) & 2u);

        _bus.WriteBar32(entry1 + 12, 0);
        Assert.Equal([(MsiAddress, 0x41u)], _interrupts.Messages);
        Assert.Equal(0u, _bus.Bar32(VirtioPciTransport.MsixPbaOffset) & 2u);
    }

    [Fact]
    [Trait("Spec", "4.1.4.5.1")]
    public void IntxPending_SetsTheInterruptStatusBitOfThePciStatusRegisterUntilIsrIsRead()
    {
        // VIRTIO 1.3 §4.1.4.5.1 "Device Requirements: ISR status capability": with MSI-X disabled the Interrupt
        // Status bit (3) of the PCI Status register is the OR of all ISR status bits. Found by the differential
        // test against QEMU (pci-20-linux intx-status).
        Assert.True(_linux.Discover());
        _linux.AssignBar(0xC000_0000);
        Assert.True(_linux.Negotiate(LinuxFeatures));
        Assert.True(_linux.SetupQueue(0, _guest.RequestQueue, vector: null));
        _linux.DriverReady();
        Assert.Equal(0x0010, _bus.Config16(0x06));

        _guest.AddRequest(GpioMessageType.GetValue, 1, 0);
        _linux.Kick(0);
        Assert.Equal(0x0018, _bus.Config16(0x06));
        Assert.Equal(0x18, _bus.Config8(0x06));
        Assert.Equal(0x0018_0000u, _bus.Config32(0x04) & 0xFFFF_0000u);

        // INTx Disable masks the pin, not the status bit (PCI Local Bus 3.0 §6.2.3).
        _bus.WriteConfig16(0x04, 0x0406);
        Assert.False(_interrupts.Intx);
        Assert.Equal(0x0018, _bus.Config16(0x06));
        _bus.WriteConfig16(0x04, 0x0006);

        _bus.WriteConfig16(0x06, 0xFFFF); // read-only: a write does not clear it
        Assert.Equal(0x0018, _bus.Config16(0x06));
        Assert.Equal(1, _linux.ReadIsr());
        Assert.Equal(0x0010, _bus.Config16(0x06));
    }

    [Fact]
    [Trait("Spec", "4.1.4.5.1")]
    public void WithMsix_TheInterruptStatusBitStaysClear()
    {
        BringUpMsix();
        _guest.AddRequest(GpioMessageType.GetValue, 0, 0);
        _linux.Kick(0);
        Assert.Single(_interrupts.Messages);
        Assert.Equal(0x0010, _bus.Config16(0x06));
    }

    [Fact]
    [Trait("Spec", "2.4")]
    public void DeviceReset_ClearsPendingBits_SoUnmaskingSendsNoStaleMessage()
    {
        // PCI Local Bus 3.0 §6.8.2.9 "Pending Bits": when the event behind a pending bit is gone the function must
        // clear the bit; a device reset (VIRTIO 1.3 §2.4 "Device Reset") discards every event. Found by the
        // differential test against QEMU (pci-50-msix reset-pba, reset-no-msg).
        BringUpMsix();
        ulong entry1 = VirtioPciTransport.MsixTableOffset + 16;
        _bus.WriteBar32(entry1 + 12, 1); // mask vector 1
        _guest.AddRequest(GpioMessageType.GetValue, 0, 0);
        _linux.Kick(0);
        Assert.Equal(2u, _bus.Bar32(VirtioPciTransport.MsixPbaOffset) & 2u);

        _bus.WriteBar8(0x14, 0); // device_status = 0: reset
        Assert.Equal(0u, _bus.Bar32(VirtioPciTransport.MsixPbaOffset));
        _bus.WriteBar32(entry1 + 12, 0);
        Assert.Empty(_interrupts.Messages);
    }

    [Fact]
    public void NoVector_MeansTheEventIsNotSignalled()
    {
        BringUpMsix();
        _bus.WriteBar16(0x16, 0);
        Assert.Equal(1, _bus.Bar16(0x1A)); // mapped by the driver during setup
        _bus.WriteBar16(0x1A, VirtioPciTransport.NoVector);
        _guest.AddRequest(GpioMessageType.GetValue, 0, 0);
        _linux.Kick(0);
        Assert.Empty(_interrupts.Messages);
        Assert.False(_interrupts.Intx);
        Assert.Equal(2u, _guest.TakeSingleCompletion(0).Length);
    }

    [Fact]
    public void UnmappableVector_ReadsBackNoVector()
    {
        Assert.True(_linux.Discover());
        Assert.True(_linux.Negotiate(LinuxFeatures));
        _bus.WriteBar16(0x10, 99);
        Assert.Equal(VirtioPciTransport.NoVector, _bus.Bar16(0x10));
        _bus.WriteBar16(0x16, 0);
        _bus.WriteBar16(0x1A, 3);
        Assert.Equal(VirtioPciTransport.NoVector, _bus.Bar16(0x1A));
    }

    [Fact]
    public void OutOfRangeQueueSelect_ReadsZeroAndIgnoresWrites()
    {
        Assert.True(_linux.Discover());
        Assert.True(_linux.Negotiate(LinuxFeatures));
        _bus.WriteBar16(0x16, 7);
        Assert.Equal(0, _bus.Bar16(0x18));
        _bus.WriteBar16(0x18, 16);
        _bus.WriteBar16(0x1C, 1);
        Assert.Equal(0, _bus.Bar16(0x1C));
        Assert.Equal(0, _bus.Bar16(0x18));
    }

    [Fact]
    public void QueueConfiguration_IsIgnoredAfterDriverOk()
    {
        BringUpMsix();
        _bus.WriteBar16(0x16, 0);
        _bus.WriteBar64TwoPart(0x20, 0x90000);
        _bus.WriteBar16(0x18, 8);
        Assert.Equal(_guest.RequestQueue.Layout.DescriptorTable, _guest.Device.GetQueue(0).DescriptorTableAddress);
        Assert.Equal(2u, _linux.Request(GpioMessageType.GetValue, 0, 0).Length);
    }

    [Fact]
    public void FeaturesOk_IsRefusedForUnofferedFeatures()
    {
        Assert.True(_linux.Discover());
        _bus.WriteBar8(0x14, 0);
        _bus.WriteBar8(0x14, 3);
        _bus.WriteBar32(0x08, 1);
        _bus.WriteBar32(0x0C, (uint)((VirtioFeatures.Version1 | VirtioFeatures.InOrder) >> 32));
        _bus.WriteBar8(0x14, 11);
        Assert.Equal(3, _linux.Status);
    }

    [Fact]
    public void CommonConfig_WrongWidthAccessesAreIgnored()
    {
        Assert.True(_linux.Discover());
        long before = _transport.IgnoredAccessCount;
        _bus.WriteBar32(0x14, 0x0F);           // device_status is 8 bits wide
        Assert.Equal(0, _linux.Status);
        Assert.Equal(0u, _bus.Bar32(0x16));    // queue_select is 16 bits wide
        _bus.WriteBar8(0x1000, 1);             // ISR is read-only
        Assert.Equal(before + 3, _transport.IgnoredAccessCount);
    }

    [Fact]
    public void NotifyForAnUnknownQueue_IsIgnored()
    {
        BringUpMsix();
        _bus.WriteBar16(VirtioPciTransport.NotifyOffset + (4 * 9), 9);
        Assert.Empty(_interrupts.Messages);
    }

    [Fact]
    public void PciCfgWindow_ReadsAndWritesTheBar()
    {
        Assert.True(_linux.Discover());
        int cap = _linux.PciCfgCap;
        // Select device_feature (common cfg + 4), page 1, through the window.
        _bus.WriteConfig8(cap + 4, 0);
        _bus.WriteConfig32(cap + 8, 0x00);
        _bus.WriteConfig32(cap + 12, 4);
        _bus.WriteConfig32(cap + 16, 1);         // device_feature_select = 1
        _bus.WriteConfig32(cap + 8, 0x04);
        Assert.Equal((uint)(_guest.Device.DeviceFeatures >> 32), _bus.Config32(cap + 16));
    }

    [Fact]
    public void RingCorruption_SetsDeviceNeedsResetAndSignalsTheConfigVector()
    {
        BringUpMsix();
        _guest.RequestQueue.WriteAvailIndex(GuestSide.QueueSize + 3);
        _linux.Kick(0);
        Assert.Equal((byte)VirtioDeviceStatus.DeviceNeedsReset, _linux.Status & (byte)VirtioDeviceStatus.DeviceNeedsReset);
        Assert.Contains((MsiAddress, 0x40u), _interrupts.Messages);
    }
}
