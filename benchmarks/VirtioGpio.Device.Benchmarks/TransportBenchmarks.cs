// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;
using VirtioGpio.Transport.Mmio;
using VirtioGpio.Transport.Pci;

namespace VirtioGpio.Device.Benchmarks;

/// <summary>
/// The transports of issue 4: the cost of one register access through each register file
/// (ns per access), and the WORKLOAD.md batch of 128 GET_VALUE chains from the guest's kick — a
/// QueueNotify write (MMIO) or a notify-area write (PCI) — to the used entries and the interrupt
/// (<c>OperationsPerInvoke = 128</c>: ns per chain). Results are verified in setup, outside the timed region.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("transport")]
public class TransportBenchmarks
{
    private const int Accesses = 1024;
    private TransportWorkload _mmio = null!;
    private TransportWorkload _pci = null!;
    private readonly byte[] _buffer = new byte[4];

    [GlobalSetup]
    public void Setup()
    {
        _mmio = new TransportWorkload(pci: false);
        _pci = new TransportWorkload(pci: true);
        _mmio.RunAndVerifyOnce();
        _pci.RunAndVerifyOnce();
    }

    /// <summary>MMIO: a 32-bit read of InterruptStatus (register dispatch, ns per access).</summary>
    [Benchmark(OperationsPerInvoke = Accesses)]
    public uint MmioRegisterRead()
    {
        uint sum = 0;
        for (int i = 0; i < Accesses; i++)
        {
            _mmio.Mmio!.Read((ulong)VirtioMmioRegister.InterruptStatus, _buffer);
            sum += _buffer[0];
        }

        return sum;
    }

    /// <summary>MMIO: a 32-bit write of QueueSel (register dispatch, ns per access).</summary>
    [Benchmark(OperationsPerInvoke = Accesses)]
    public void MmioRegisterWrite()
    {
        for (int i = 0; i < Accesses; i++)
        {
            _mmio.Mmio!.Write((ulong)VirtioMmioRegister.QueueSel, _buffer);
        }
    }

    /// <summary>PCI: a 16-bit read of queue_size in the common configuration (ns per access).</summary>
    [Benchmark(OperationsPerInvoke = Accesses)]
    public uint PciCommonConfigRead()
    {
        uint sum = 0;
        for (int i = 0; i < Accesses; i++)
        {
            _pci.Pci!.ReadBar(0, 0x18, _buffer.AsSpan(0, 2));
            sum += _buffer[0];
        }

        return sum;
    }

    /// <summary>MMIO: QueueNotify → 128 chains processed → interrupt raised and acknowledged (ns per chain).</summary>
    [Benchmark(OperationsPerInvoke = TransportWorkload.Batch)]
    public void MmioNotifyToUsed() => _mmio.RunIteration();

    /// <summary>PCI (MSI-X): notify-area write → 128 chains processed → MSI-X message (ns per chain).</summary>
    [Benchmark(OperationsPerInvoke = TransportWorkload.Batch)]
    public void PciNotifyToUsed() => _pci.RunIteration();

    [GlobalCleanup]
    public void Cleanup()
    {
        _mmio.RunAndVerifyOnce();
        _pci.RunAndVerifyOnce();
        _mmio.Dispose();
        _pci.Dispose();
    }

    /// <summary>The WORKLOAD.md rings behind a transport that was brought up through its registers.</summary>
    public sealed class TransportWorkload : IDisposable, IVirtioMmioInterruptLine, IVirtioPciInterruptController
    {
        public const int Batch = 128;
        private const int QueueSize = 256;
        private const int LineCount = 64;
        private const ulong AvailRing = 0x1000;
        private const ulong UsedRing = 0x2000;
        private const ulong RequestBase = 0x10000;
        private const ulong ResponseBase = 0x20000;

        private readonly byte[] _ram = new byte[1 << 20];
        private readonly byte[] _scratch = new byte[4];
        private readonly VirtioGpioDevice _device;
        private ushort _availIdx;
        private ushort _lastUsed;
        private long _interrupts;

        public TransportWorkload(bool pci)
        {
            var lines = new SimulatedGpioLineBackend(LineCount);
            for (int line = 0; line < LineCount; line += 3)
            {
                lines.SetInputLevel(line, LineValue.High);
            }

            _device = new VirtioGpioDevice(new VirtioGpioDeviceOptions { Backend = lines, RequestQueueMaxSize = QueueSize, OfferInterrupts = false });
            var memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(0), _ram));
            for (int i = 0; i < Batch; i++)
            {
                Span<byte> request = _ram.AsSpan((int)RequestBase + (16 * i), 8);
                BinaryPrimitives.WriteUInt16LittleEndian(request, (ushort)GpioMessageType.GetValue);
                BinaryPrimitives.WriteUInt16LittleEndian(request.Slice(2), (ushort)(i % LineCount));
                new Descriptor(new GuestAddress(RequestBase + (ulong)(16 * i)), 8, DescriptorFlags.Next, (ushort)((2 * i) + 1)).TryWrite(_ram.AsSpan(32 * i));
                new Descriptor(new GuestAddress(ResponseBase + (ulong)(16 * i)), 2, DescriptorFlags.Write, 0).TryWrite(_ram.AsSpan((32 * i) + 16));
            }

            if (pci)
            {
                Pci = new VirtioPciTransport(_device, memory, this);
                BringUpPci(Pci);
            }
            else
            {
                Mmio = new VirtioMmioTransport(_device, memory, this);
                BringUpMmio(Mmio);
            }
        }

        public VirtioMmioTransport? Mmio { get; }

        public VirtioPciTransport? Pci { get; }

        public void SetLevel(bool asserted)
        {
            if (asserted)
            {
                _interrupts++;
            }
        }

        public void SendMsi(ulong address, uint data) => _interrupts++;

        public void SetIntx(bool asserted)
        {
        }

        public void RunIteration()
        {
            Span<byte> ring = _ram.AsSpan((int)AvailRing + 4, 2 * QueueSize);
            for (int k = 0; k < Batch; k++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(ring.Slice(2 * ((_availIdx + k) % QueueSize)), (ushort)(2 * k));
            }

            _availIdx = unchecked((ushort)(_availIdx + Batch)); // wraps by design: 16-bit ring index
            Volatile.Write(ref Unsafe.As<byte, ushort>(ref _ram[AvailRing + 2]), _availIdx);

            BinaryPrimitives.WriteUInt32LittleEndian(_scratch, 0);
            if (Mmio is not null)
            {
                Mmio.Write((ulong)VirtioMmioRegister.QueueNotify, _scratch);
                Mmio.Read((ulong)VirtioMmioRegister.InterruptStatus, _scratch);
                Mmio.Write((ulong)VirtioMmioRegister.InterruptAck, _scratch);
            }
            else
            {
                Pci!.WriteBar(0, VirtioPciTransport.NotifyOffset, _scratch.AsSpan(0, 2));
            }

            _lastUsed = Volatile.Read(ref Unsafe.As<byte, ushort>(ref _ram[UsedRing + 2]));
        }

        public void RunAndVerifyOnce()
        {
            ushort before = _lastUsed;
            long interrupts = _interrupts;
            RunIteration();
            if (unchecked((ushort)(_lastUsed - before)) != Batch || _interrupts != interrupts + 1)
            {
                throw new InvalidOperationException($"transport: {unchecked((ushort)(_lastUsed - before))} used entries and {_interrupts - interrupts} interrupts for one batch.");
            }

            for (int k = 0; k < Batch; k++)
            {
                int slot = (before + k) % QueueSize;
                uint len = BinaryPrimitives.ReadUInt32LittleEndian(_ram.AsSpan((int)UsedRing + 8 + (8 * slot)));
                byte value = _ram[(int)ResponseBase + (16 * k) + 1];
                if (len != 2 || _ram[(int)ResponseBase + (16 * k)] != 0 || value != ((k % LineCount) % 3 == 0 ? 1 : 0))
                {
                    throw new InvalidOperationException($"transport: chain {k} answered wrongly (len {len}, value {value}).");
                }
            }
        }

        public void Dispose() => _device.Dispose();

        private void BringUpMmio(VirtioMmioTransport mmio)
        {
            void W(VirtioMmioRegister r, uint v)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(_scratch, v);
                mmio.Write((ulong)r, _scratch);
            }

            W(VirtioMmioRegister.Status, 3);
            W(VirtioMmioRegister.DriverFeaturesSel, 1);
            W(VirtioMmioRegister.DriverFeatures, 1);
            W(VirtioMmioRegister.Status, 11);
            W(VirtioMmioRegister.QueueSel, 0);
            W(VirtioMmioRegister.QueueSize, QueueSize);
            W(VirtioMmioRegister.QueueDescLow, 0);
            W(VirtioMmioRegister.QueueDriverLow, (uint)AvailRing);
            W(VirtioMmioRegister.QueueDeviceLow, (uint)UsedRing);
            W(VirtioMmioRegister.QueueReady, 1);
            W(VirtioMmioRegister.Status, 15);
        }

        private void BringUpPci(VirtioPciTransport pci)
        {
            void W(ulong offset, uint v, int width)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(_scratch, v);
                pci.WriteBar(0, offset, _scratch.AsSpan(0, width));
            }

            pci.WriteConfigSpace(0x42, [0x02, 0x80]); // MSI-X enable
            W(VirtioPciTransport.MsixTableOffset + 16, 0xFEE0_0000, 4);
            W(VirtioPciTransport.MsixTableOffset + 24, 0x41, 4);
            W(VirtioPciTransport.MsixTableOffset + 28, 0, 4);
            W(0x14, 3, 1);
            W(0x08, 1, 4);
            W(0x0C, 1, 4);
            W(0x14, 11, 1);
            W(0x16, 0, 2);
            W(0x18, QueueSize, 2);
            W(0x20, 0, 4);
            W(0x28, (uint)AvailRing, 4);
            W(0x30, (uint)UsedRing, 4);
            W(0x1A, 1, 2);
            W(0x1C, 1, 2);
            W(0x14, 15, 1);
        }
    }
}
