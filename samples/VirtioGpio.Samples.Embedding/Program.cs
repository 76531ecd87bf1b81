// SPDX-License-Identifier: MIT
// How a VMM embeds a VirtioGpio device behind virtio-mmio and virtio-pci. The "guest" here is the
// driver-side test kit (SimulatedVirtioDriver) writing rings into the same guest memory a VMM
// would hand to the transport; in a real VMM the register accesses come from MMIO/PCI exits.
using System.Buffers.Binary;
using VirtioGpio.Device;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Transport.Mmio;
using VirtioGpio.Transport.Pci;

int failures = 0;
failures += RunMmio();
failures += RunPci();
Console.WriteLine(failures == 0 ? "sample: all requests answered" : $"sample: {failures} failure(s)");
return failures == 0 ? 0 : 1;

static int RunMmio()
{
    Console.WriteLine("== virtio-mmio");
    // 1. Guest memory: the VMM owns the RAM and describes it as regions.
    var ram = new byte[1 << 20];
    var memory = new RegionGuestMemory([new GuestMemoryRegion(new GuestAddress(0), ram)]);

    // 2. The device with 4 simulated lines, and the transport in front of it.
    using var device = new VirtioGpioDevice(new VirtioGpioDeviceOptions { LineNames = new GpioLineNames(["led", "button", "", "relay"]) });
    var irq = new ConsoleInterruptLine();
    var mmio = new VirtioMmioTransport(device, memory, irq);

    // 3. What the guest does (see docs/embedding.md for the register sequence Linux uses).
    Write(mmio, VirtioMmioRegister.Status, 1 | 2);
    Write(mmio, VirtioMmioRegister.DriverFeaturesSel, 1);
    Write(mmio, VirtioMmioRegister.DriverFeatures, 1); // VIRTIO_F_VERSION_1 (bit 32)
    Write(mmio, VirtioMmioRegister.Status, 1 | 2 | 8);
    var ring = new SimulatedVirtioDriver(memory, SplitRingLayout.Compact(16, new GuestAddress(0x1000)), new GuestRange(0x10000, 0x10000));
    Write(mmio, VirtioMmioRegister.QueueSel, 0);
    Write(mmio, VirtioMmioRegister.QueueSize, 16);
    Write(mmio, VirtioMmioRegister.QueueDescLow, (uint)ring.Layout.DescriptorTable.Value);
    Write(mmio, VirtioMmioRegister.QueueDriverLow, (uint)ring.Layout.AvailRing.Value);
    Write(mmio, VirtioMmioRegister.QueueDeviceLow, (uint)ring.Layout.UsedRing.Value);
    Write(mmio, VirtioMmioRegister.QueueReady, 1);
    Write(mmio, VirtioMmioRegister.Status, 1 | 2 | 8 | 4);

    // gpioset led=1: SET_VALUE then SET_DIRECTION(OUT); the VMM's interrupt line fires per request.
    ((SimulatedGpioLineBackend)device.Backend).LineChanged += (_, change) => Console.WriteLine($"   host sees: {change}");
    int failures = 0;
    foreach ((GpioMessageType type, uint value) in new[] { (GpioMessageType.SetValue, 1u), (GpioMessageType.SetDirection, 1u) })
    {
        ring.AddChain([Request(type, 0, value)], [2]);
        ring.Publish();
        Write(mmio, VirtioMmioRegister.QueueNotify, 0);
        uint status = Read(mmio, VirtioMmioRegister.InterruptStatus);
        Write(mmio, VirtioMmioRegister.InterruptAck, status);
        failures += Report(ring, type);
    }

    return failures;
}

static int RunPci()
{
    Console.WriteLine("== virtio-pci");
    var ram = new byte[1 << 20];
    var memory = new RegionGuestMemory([new GuestMemoryRegion(new GuestAddress(0), ram)]);
    using var device = new VirtioGpioDevice(new VirtioGpioDeviceOptions { LineCount = 8 });
    var interrupts = new ConsoleMsi();
    var pci = new VirtioPciTransport(device, memory, interrupts);

    // Firmware assigns the BAR; the driver enables MSI-X and programs vector 1 for the requestq.
    pci.WriteConfigSpace(0x10, [0x00, 0x00, 0x00, 0xC0]);
    pci.WriteConfigSpace(0x04, [0x06, 0x00]);
    pci.WriteConfigSpace(0x42, [0x02, 0x80]); // MSI-X enable (table size bits are read-only)
    Span<byte> entry = stackalloc byte[16];
    BinaryPrimitives.WriteUInt64LittleEndian(entry, 0xFEE0_0000);
    BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], 0x31);
    pci.WriteBar(0, VirtioPciTransport.MsixTableOffset + 16, entry[..8]);
    pci.WriteBar(0, VirtioPciTransport.MsixTableOffset + 24, entry[8..]);

    BarWrite8(pci, 0x14, 1 | 2);
    BarWrite32(pci, 0x08, 1);
    BarWrite32(pci, 0x0C, 1); // VERSION_1
    BarWrite8(pci, 0x14, 1 | 2 | 8);
    var ring = new SimulatedVirtioDriver(memory, SplitRingLayout.Compact(16, new GuestAddress(0x1000)), new GuestRange(0x10000, 0x10000));
    BarWrite16(pci, 0x16, 0);
    BarWrite16(pci, 0x18, 16);
    BarWrite32(pci, 0x20, (uint)ring.Layout.DescriptorTable.Value);
    BarWrite32(pci, 0x28, (uint)ring.Layout.AvailRing.Value);
    BarWrite32(pci, 0x30, (uint)ring.Layout.UsedRing.Value);
    BarWrite16(pci, 0x1A, 1);
    BarWrite16(pci, 0x1C, 1);
    BarWrite8(pci, 0x14, 1 | 2 | 8 | 4);

    ring.AddChain([Request(GpioMessageType.GetDirection, 3, 0)], [2]);
    ring.Publish();
    BarWrite16(pci, VirtioPciTransport.NotifyOffset, 0); // queue 0's notify address
    return Report(ring, GpioMessageType.GetDirection);
}

static byte[] Request(GpioMessageType type, ushort line, uint value)
{
    var bytes = new byte[8];
    BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)type);
    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), line);
    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), value);
    return bytes;
}

static int Report(SimulatedVirtioDriver ring, GpioMessageType type)
{
    if (!ring.TryTakeUsed(out DriverCompletion completion))
    {
        Console.WriteLine($"   {type}: no answer");
        return 1;
    }

    Console.WriteLine($"   {type}: used len {completion.Length}, response {Convert.ToHexString(completion.Written.Span)}");
    return completion.Length == 2 && completion.Written.Span[0] == 0 ? 0 : 1;
}

static void Write(VirtioMmioTransport mmio, VirtioMmioRegister register, uint value)
{
    Span<byte> data = stackalloc byte[4];
    BinaryPrimitives.WriteUInt32LittleEndian(data, value);
    mmio.Write((ulong)register, data);
}

static uint Read(VirtioMmioTransport mmio, VirtioMmioRegister register)
{
    Span<byte> data = stackalloc byte[4];
    mmio.Read((ulong)register, data);
    return BinaryPrimitives.ReadUInt32LittleEndian(data);
}

static void BarWrite8(VirtioPciTransport pci, ulong offset, byte value) => pci.WriteBar(0, offset, [value]);

static void BarWrite16(VirtioPciTransport pci, ulong offset, ushort value)
{
    Span<byte> data = stackalloc byte[2];
    BinaryPrimitives.WriteUInt16LittleEndian(data, value);
    pci.WriteBar(0, offset, data);
}

static void BarWrite32(VirtioPciTransport pci, ulong offset, uint value)
{
    Span<byte> data = stackalloc byte[4];
    BinaryPrimitives.WriteUInt32LittleEndian(data, value);
    pci.WriteBar(0, offset, data);
}

internal sealed class ConsoleInterruptLine : IVirtioMmioInterruptLine
{
    public void SetLevel(bool asserted) => Console.WriteLine($"   irq line {(asserted ? "raised" : "lowered")}");
}

internal sealed class ConsoleMsi : IVirtioPciInterruptController
{
    public void SendMsi(ulong address, uint data) => Console.WriteLine($"   MSI-X message 0x{data:x} to 0x{address:x}");

    public void SetIntx(bool asserted) => Console.WriteLine($"   INTx {(asserted ? "asserted" : "deasserted")}");
}
