// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Transport.Mmio;
using VirtioGpio.Transport.Tests.Infrastructure;

namespace VirtioGpio.Transport.Tests.Mmio;

public sealed class VirtioMmioTransportTests : IDisposable
{
    private const ulong LinuxFeatures = GpioFeatures.Irq | VirtioFeatures.RingIndirectDesc | VirtioFeatures.RingEventIdx | VirtioFeatures.Version1;

    private readonly GuestSide _guest = new(names: ["led0", "", "button", "", "", "", "", "reset"]);
    private readonly RecordingMmioLine _line = new();
    private readonly RecordingGuestMemory _recordedMemory;
    private readonly VirtioMmioTransport _transport;
    private readonly MmioBus _bus;
    private readonly LinuxMmioDriver _linux;

    public VirtioMmioTransportTests()
    {
        _recordedMemory = new RecordingGuestMemory(_guest.Memory);
        _transport = new VirtioMmioTransport(_guest.Device, _recordedMemory, _line);
        _bus = new MmioBus(_transport);
        _linux = new LinuxMmioDriver(_bus, _guest);
    }

    public void Dispose() => _guest.Dispose();

    private void BringUp()
    {
        Assert.True(_linux.Probe(LinuxFeatures));
        Assert.True(_linux.SetupQueue(0, _guest.RequestQueue));
        Assert.True(_linux.SetupQueue(1, _guest.EventQueue));
        _linux.DriverReady();
    }

    [Fact]
    [Trait("Spec", "MMIO-Linux")]
    public void LinuxProbeSequence_IdentifiesNegotiatesAndReadsConfig()
    {
        Assert.True(_linux.Probe(LinuxFeatures));

        Assert.Equal(41u, _linux.DeviceId);
        Assert.Equal(VirtioFeatures.Version1, _linux.DeviceFeatures & VirtioFeatures.Version1);
        Assert.Equal(GpioFeatures.Irq, _linux.DeviceFeatures & GpioFeatures.Irq);
        Assert.Equal((uint)(LinuxMmioDriver.Acknowledge | LinuxMmioDriver.Driver | LinuxMmioDriver.FeaturesOk), _linux.Status);
        Assert.Equal(LinuxFeatures, _guest.Device.DriverFeatures);

        // ngpio = 8, padding 0, gpio_names_size = Σ(len + 1) = 5 + 1 + 7 + 1 + 1 + 1 + 1 + 6 = 23.
        Assert.Equal(new byte[] { 8, 0, 0, 0, 23, 0, 0, 0 }, _linux.Config);
    }

    [Fact]
    [Trait("Spec", "MMIO-Linux")]
    public void LinuxQueueSetupAndRequest_RoundTripsThroughTheDevice()
    {
        BringUp();
        Assert.Equal((uint)(LinuxMmioDriver.Acknowledge | LinuxMmioDriver.Driver | LinuxMmioDriver.FeaturesOk | LinuxMmioDriver.DriverOk), _linux.Status);
        Assert.True(_line.Level is false);

        // gpioset: SET_VALUE then SET_DIRECTION(OUT); the simulated line follows.
        DriverCompletion set = _linux.Request(GpioMessageType.SetValue, 3, 1);
        Assert.Equal(2u, set.Length);
        Assert.Equal(new byte[] { 0, 0 }, set.Written.ToArray());
        DriverCompletion dir = _linux.Request(GpioMessageType.SetDirection, 3, 1);
        Assert.Equal(new byte[] { 0, 0 }, dir.Written.ToArray());
        Assert.True(_guest.Lines.Read(3).IsHigh);

        DriverCompletion get = _linux.Request(GpioMessageType.GetDirection, 3, 0);
        Assert.Equal(new byte[] { 0, 1 }, get.Written.ToArray());

        // Every interrupt was raised and lowered again by the acknowledgement.
        Assert.False(_line.Level);
        Assert.Equal([true, false, true, false, true, false], _line.Changes);
    }

    [Fact]
    [Trait("Spec", "MMIO-Linux")]
    public void LinuxRemoval_ResetsStatusInterruptsAndQueues()
    {
        BringUp();
        _guest.AddRequest(GpioMessageType.GetValue, 0, 0);
        _linux.Notify(0);
        Assert.NotEqual(0u, _transport.InterruptStatus);

        Assert.True(_linux.Remove(2));

        Assert.Equal(0u, _linux.Status);
        Assert.Equal(0u, _transport.InterruptStatus);
        Assert.False(_line.Level);
        Assert.False(_guest.Device.IsActive);
    }

    [Fact]
    [Trait("Spec", "MMIO-Linux")]
    public void LegacyVersion1_ProbeQueuePfnAndRequest()
    {
        var transport = new VirtioMmioTransport(_guest.Device, _guest.Memory, _line, new VirtioMmioTransportOptions { Version = 1 });
        var bus = new MmioBus(transport);
        var legacyRing = new SimulatedVirtioDriver(_guest.Memory, SplitRingLayout.Legacy(GuestSide.QueueSize, new GuestAddress(0x80000)), new GuestRange(0xA0000, 0x10000));
        var linux = new LinuxMmioDriver(bus, _guest);

        Assert.True(linux.Probe(LinuxFeatures & ~VirtioFeatures.Version1));
        Assert.Equal(1u, bus.Read32(VirtioMmioRegister.Version));
        Assert.True(linux.SetupQueue(0, legacyRing));
        linux.DriverReady();

        byte[] request = [(byte)GpioMessageType.GetDirection, 0, 2, 0, 0, 0, 0, 0];
        legacyRing.AddChain([request], [2]);
        legacyRing.Publish();
        linux.Notify(0);

        Assert.Equal(1u, linux.HandleInterrupt());
        Assert.True(legacyRing.TryTakeUsed(out DriverCompletion completion));
        Assert.Equal(2u, completion.Length);
        Assert.Equal(GpioStatus.Ok, (GpioStatus)completion.Written.Span[0]);
    }

    [Fact]
    public void ControlRegisters_RejectNon32BitAndUnalignedAccesses()
    {
        Span<byte> two = stackalloc byte[2];
        _transport.Read((ulong)VirtioMmioRegister.MagicValue, two);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(two));

        Span<byte> four = stackalloc byte[4];
        _transport.Read(2, four);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(four));

        // A 1-byte status write is ignored, so the device stays in reset.
        _transport.Write((ulong)VirtioMmioRegister.Status, [LinuxMmioDriver.Acknowledge]);
        Assert.Equal(0u, _bus.Read32(VirtioMmioRegister.Status));
        Assert.Equal(3, _transport.IgnoredAccessCount);
    }

    [Fact]
    public void ReadOnlyAndUnknownRegisters_IgnoreWritesAndReadZero()
    {
        _bus.Write32(VirtioMmioRegister.MagicValue, 0);
        _bus.Write32(VirtioMmioRegister.DeviceId, 7);
        Assert.Equal(VirtioMmioTransport.MagicValue, _bus.Read32(VirtioMmioRegister.MagicValue));
        Assert.Equal(41u, _bus.Read32(VirtioMmioRegister.DeviceId));
        Assert.Equal(0u, _bus.Read32(0x0e0));            // hole
        Assert.Equal(0u, _bus.Read32(VirtioMmioRegister.QueueNotify)); // write-only
        Assert.Equal(4, _transport.IgnoredAccessCount);
    }

    [Fact]
    public void FeaturesOk_IsRefusedWhenTheDriverAcceptsUnofferedFeatures()
    {
        Assert.True(_linux.Probe(LinuxFeatures));
        _bus.Write32(VirtioMmioRegister.Status, 0);
        _bus.Write32(VirtioMmioRegister.Status, 3);
        _bus.Write32(VirtioMmioRegister.DriverFeaturesSel, 1);
        _bus.Write32(VirtioMmioRegister.DriverFeatures, (uint)((VirtioFeatures.Version1 | VirtioFeatures.RingPacked) >> 32));
        _bus.Write32(VirtioMmioRegister.Status, 3 | LinuxMmioDriver.FeaturesOk);

        Assert.Equal(0u, _bus.Read32(VirtioMmioRegister.Status) & LinuxMmioDriver.FeaturesOk);
    }

    [Fact]
    public void QueueRegisters_AreIgnoredBeforeFeaturesOkAndAfterDriverOk()
    {
        // Before FEATURES_OK: QueueReady cannot be set.
        _bus.Write32(VirtioMmioRegister.QueueSel, 0);
        _bus.Write32(VirtioMmioRegister.QueueSize, GuestSide.QueueSize);
        _bus.Write32(VirtioMmioRegister.QueueReady, 1);
        Assert.Equal(0u, _bus.Read32(VirtioMmioRegister.QueueReady));

        BringUp();
        GuestAddress before = _guest.Device.GetQueue(0).DescriptorTableAddress;

        // After DRIVER_OK (Firecracker CVE-2026-5747): moving the ring is refused.
        _bus.Write32(VirtioMmioRegister.QueueSel, 0);
        _bus.Write64(VirtioMmioRegister.QueueDescLow, 0x90000);
        _bus.Write32(VirtioMmioRegister.QueueSize, 8);
        Assert.Equal(before, _guest.Device.GetQueue(0).DescriptorTableAddress);
        Assert.Equal((ushort)GuestSide.QueueSize, _guest.Device.GetQueue(0).Size);

        // The queue still works at its original place.
        Assert.Equal(2u, _linux.Request(GpioMessageType.GetValue, 1, 0).Length);
    }

    [Fact]
    public void OutOfRangeQueueSelect_ReadsZeroAndIgnoresWrites()
    {
        Assert.True(_linux.Probe(LinuxFeatures));
        _bus.Write32(VirtioMmioRegister.QueueSel, 2);
        Assert.Equal(0u, _bus.Read32(VirtioMmioRegister.QueueSizeMax));
        _bus.Write32(VirtioMmioRegister.QueueSize, 8);
        _bus.Write32(VirtioMmioRegister.QueueReady, 1);
        Assert.Equal(0u, _bus.Read32(VirtioMmioRegister.QueueReady));

        _bus.Write32(VirtioMmioRegister.QueueSel, uint.MaxValue);
        Assert.Equal(0u, _bus.Read32(VirtioMmioRegister.QueueSizeMax));
    }

    [Fact]
    public void InvalidQueueSize_LeavesQueueReadyClear()
    {
        Assert.True(_linux.Probe(LinuxFeatures));
        _bus.Write32(VirtioMmioRegister.QueueSel, 0);
        _bus.Write32(VirtioMmioRegister.QueueSize, 3); // not a power of two
        _bus.Write64(VirtioMmioRegister.QueueDescLow, _guest.RequestQueue.Layout.DescriptorTable.Value);
        _bus.Write64(VirtioMmioRegister.QueueDriverLow, _guest.RequestQueue.Layout.AvailRing.Value);
        _bus.Write64(VirtioMmioRegister.QueueDeviceLow, _guest.RequestQueue.Layout.UsedRing.Value);
        _bus.Write32(VirtioMmioRegister.QueueReady, 1);
        Assert.Equal(0u, _bus.Read32(VirtioMmioRegister.QueueReady));

        _bus.Write32(VirtioMmioRegister.QueueSize, 512); // above QueueSizeMax (256)
        _bus.Write32(VirtioMmioRegister.QueueReady, 1);
        Assert.Equal(0u, _bus.Read32(VirtioMmioRegister.QueueReady));
    }

    [Fact]
    public void DeviceNeverTouchesAQueueWhoseQueueReadyIsZero()
    {
        Assert.True(_linux.Probe(LinuxFeatures));
        Assert.True(_linux.SetupQueue(0, _guest.RequestQueue));
        _linux.DriverReady(); // eventq never set up, as Linux without F_IRQ
        _guest.ArmIrq(0);
        _recordedMemory.Clear();

        _linux.Notify(1);

        Assert.Empty(_recordedMemory.Records);
        Assert.Equal(0u, _transport.InterruptStatus);
    }

    [Fact]
    public void InterruptStatus_BitsAreHeldUntilAcknowledged()
    {
        BringUp();
        _guest.AddRequest(GpioMessageType.GetValue, 0, 0);
        _linux.Notify(0);
        Assert.Equal(1u, _bus.Read32(VirtioMmioRegister.InterruptStatus));
        Assert.Equal(1u, _bus.Read32(VirtioMmioRegister.InterruptStatus));
        Assert.True(_line.Level);

        _bus.Write32(VirtioMmioRegister.InterruptAck, 2); // the other bit: nothing changes
        Assert.Equal(1u, _bus.Read32(VirtioMmioRegister.InterruptStatus));
        _bus.Write32(VirtioMmioRegister.InterruptAck, 1);
        Assert.Equal(0u, _bus.Read32(VirtioMmioRegister.InterruptStatus));
        Assert.False(_line.Level);
    }

    [Fact]
    public void StatusWrites_ThatClearBitsAreIgnored()
    {
        BringUp();
        _bus.Write32(VirtioMmioRegister.Status, LinuxMmioDriver.Acknowledge);
        Assert.Equal(15u, _bus.Read32(VirtioMmioRegister.Status));
    }

    [Fact]
    public void ConfigSpace_AnswersAlignedByteWordAndDwordReadsAndIgnoresOthers()
    {
        Assert.True(_linux.Probe(LinuxFeatures));
        Assert.Equal(8, _bus.Read16((ulong)VirtioMmioRegister.Config));
        Assert.Equal(23u, _bus.Read32((ulong)VirtioMmioRegister.Config + 4));
        Assert.Equal(0u, _bus.Read32((ulong)VirtioMmioRegister.Config + 8)); // beyond the 8-byte config
        long ignoredBefore = _transport.IgnoredAccessCount;
        Assert.Equal(0, _bus.Read16((ulong)VirtioMmioRegister.Config + 1)); // misaligned 16-bit
        Span<byte> three = stackalloc byte[3];
        _transport.Read((ulong)VirtioMmioRegister.Config, three);
        Assert.Equal(ignoredBefore + 2, _transport.IgnoredAccessCount);
    }

    [Fact]
    public void NoSharedMemoryRegions_SHMLenReadsMinusOne()
    {
        _bus.Write32(VirtioMmioRegister.ShmSel, 0);
        Assert.Equal(uint.MaxValue, _bus.Read32(VirtioMmioRegister.ShmLenLow));
        Assert.Equal(uint.MaxValue, _bus.Read32(VirtioMmioRegister.ShmLenHigh));
    }

    [Fact]
    public void RingCorruption_SetsDeviceNeedsResetAndRaisesAConfigChangeInterrupt()
    {
        BringUp();
        // avail.idx jumps by more than the queue size: ring-level corruption.
        _guest.RequestQueue.WriteAvailIndex(GuestSide.QueueSize + 5);
        _linux.Notify(0);

        Assert.Equal((uint)VirtioDeviceStatus.DeviceNeedsReset, _linux.Status & (uint)VirtioDeviceStatus.DeviceNeedsReset);
        Assert.Equal(2u, _bus.Read32(VirtioMmioRegister.InterruptStatus) & 2u);

        // A reset recovers the device.
        Assert.True(_linux.Remove(2));
        Assert.Equal(0u, _linux.Status);
    }

    [Fact]
    public void QueueReset_IsIgnoredWithoutRingResetNegotiated()
    {
        BringUp();
        _bus.Write32(VirtioMmioRegister.QueueSel, 0);
        _bus.Write32(VirtioMmioRegister.QueueReset, 1);
        Assert.Equal(1u, _bus.Read32(VirtioMmioRegister.QueueReady));
        Assert.Equal(2u, _linux.Request(GpioMessageType.GetValue, 1, 0).Length);
    }
}
