// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Benchmarks;

/// <summary>
/// The <c>device</c> variant of WORKLOAD.md: the full device path as a guest request really goes —
/// <see cref="IVirtioDevice.NotifyQueue(int)"/> → pop → decode → <see cref="GpioLineBank"/> (GET_VALUE reads the
/// simulated line) → 2-byte response → add used → one notification decision per batch. One invocation is one
/// iteration (128 chains), so with <c>OperationsPerInvoke = 128</c> the figure is ns per chain.
/// <see cref="DeviceIndirect"/> is the same with every request as one INDIRECT descriptor (Linux with
/// RING_INDIRECT_DESC). Responses and used entries are verified in setup and cleanup, outside the timed region.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
[BenchmarkCategory("device")]
public class DeviceBenchmarks
{
    private DeviceWorkload _direct = null!;
    private DeviceWorkload _indirect = null!;

    [GlobalSetup(Target = nameof(Device))]
    public void SetupDirect()
    {
        _direct = new DeviceWorkload(indirect: false);
        _direct.RunAndVerifyOnce();
        _direct.RunAndVerifyOnce();
    }

    [GlobalSetup(Target = nameof(DeviceIndirect))]
    public void SetupIndirect()
    {
        _indirect = new DeviceWorkload(indirect: true);
        _indirect.RunAndVerifyOnce();
        _indirect.RunAndVerifyOnce();
    }

    [Benchmark(OperationsPerInvoke = DeviceWorkload.Batch)]
    public void Device() => _direct.RunIteration();

    [Benchmark(OperationsPerInvoke = DeviceWorkload.Batch)]
    public void DeviceIndirect() => _indirect.RunIteration();

    [GlobalCleanup(Target = nameof(Device))]
    public void CleanupDirect()
    {
        _direct.RunAndVerifyOnce();
        _direct.Dispose();
    }

    [GlobalCleanup(Target = nameof(DeviceIndirect))]
    public void CleanupIndirect()
    {
        _indirect.RunAndVerifyOnce();
        _indirect.Dispose();
    }

    /// <summary>WORKLOAD.md layout driven through a <see cref="VirtioGpioDevice"/> (64 simulated lines).</summary>
    public sealed class DeviceWorkload : IDisposable, IVirtioInterruptSink
    {
        public const int QueueSize = 256;
        public const int Batch = 128;
        public const int LineCount = 64;
        private const ulong DescriptorTable = 0x0;
        private const ulong AvailRing = 0x1000;
        private const ulong UsedRing = 0x2000;
        private const ulong RequestBase = 0x10000;
        private const ulong ResponseBase = 0x20000;
        private const ulong IndirectBase = 0x30000;
        private const ushort GetValue = 0x0004;

        private readonly byte[] _ram = new byte[1 << 20];
        private readonly byte[] _levels = new byte[LineCount];
        private readonly ushort[] _heads = new ushort[Batch];
        private readonly VirtioGpioDevice _device;
        private ushort _availIdx;
        private ushort _lastUsed;

        public DeviceWorkload(bool indirect)
        {
            var lines = new SimulatedGpioLineBackend(LineCount);
            for (int line = 0; line < LineCount; line++)
            {
                _levels[line] = (byte)((line * 7 % 3) == 0 ? 1 : 0);
                lines.SetInputLevel(line, _levels[line] == 1);
            }

            _device = new VirtioGpioDevice(new VirtioGpioDeviceOptions { Backend = lines, RequestQueueMaxSize = QueueSize });
            var memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(0), _ram));

            for (int i = 0; i < Batch; i++)
            {
                Span<byte> request = _ram.AsSpan((int)(RequestBase + (ulong)(16 * i)), 8);
                BinaryPrimitives.WriteUInt16LittleEndian(request, GetValue);
                BinaryPrimitives.WriteUInt16LittleEndian(request.Slice(2), (ushort)(i % LineCount));
                BinaryPrimitives.WriteUInt32LittleEndian(request.Slice(4), 0);
                if (indirect)
                {
                    ulong table = IndirectBase + (ulong)(32 * i);
                    WriteDescriptor(table, 0, RequestBase + (ulong)(16 * i), 8, DescriptorFlags.Next, 1);
                    WriteDescriptor(table, 1, ResponseBase + (ulong)(16 * i), 2, DescriptorFlags.Write, 0);
                    WriteDescriptor(DescriptorTable, i, table, 32, DescriptorFlags.Indirect, 0);
                    _heads[i] = (ushort)i;
                }
                else
                {
                    WriteDescriptor(DescriptorTable, 2 * i, RequestBase + (ulong)(16 * i), 8, DescriptorFlags.Next, (ushort)((2 * i) + 1));
                    WriteDescriptor(DescriptorTable, (2 * i) + 1, ResponseBase + (ulong)(16 * i), 2, DescriptorFlags.Write, 0);
                    _heads[i] = (ushort)(2 * i);
                }
            }

            // The transport's part: FEATURES_OK, queue registers, DRIVER_OK, QueueReady.
            ulong features = VirtioFeatures.Version1 | (indirect ? VirtioFeatures.RingIndirectDesc : 0);
            SplitQueue queue = _device.GetQueue(VirtioGpioDevice.RequestQueueIndex);
            if (!_device.TryAcceptFeatures(features)
                || !queue.TrySetSize(QueueSize)
                || !queue.TrySetAddresses(new GuestAddress(DescriptorTable), new GuestAddress(AvailRing), new GuestAddress(UsedRing)))
            {
                throw new InvalidOperationException("Device setup failed.");
            }

            _device.Activate(memory, this);
            if (_device.SetQueueReady(VirtioGpioDevice.RequestQueueIndex, true) != VirtqueueError.None)
            {
                throw new InvalidOperationException("Queue activation failed.");
            }
        }

        /// <summary>Used-buffer notifications the device sent (one per batch expected).</summary>
        public long Notifications { get; private set; }

        /// <summary>Checksum of the consumed used entries (keeps the consumer observable).</summary>
        public ulong UsedChecksum { get; private set; }

        public void NotifyUsedBuffers(int queueIndex) => Notifications++;

        public void NotifyConfigChange() => throw new InvalidOperationException("The device broke a queue.");

        /// <summary>One timed iteration: the driver publishes 128 heads and kicks; the device processes; the driver consumes.</summary>
        public void RunIteration()
        {
            Span<byte> ring = _ram.AsSpan((int)AvailRing + 4, 2 * QueueSize);
            ushort idx = _availIdx;
            for (int k = 0; k < Batch; k++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(ring.Slice(2 * ((idx + k) % QueueSize)), _heads[k]);
            }

            _availIdx = unchecked((ushort)(idx + Batch)); // wraps by design: 16-bit ring index
            Volatile.Write(ref Unsafe.As<byte, ushort>(ref _ram[AvailRing + 2]), _availIdx);

            _device.NotifyQueue(VirtioGpioDevice.RequestQueueIndex);

            ushort usedIdx = Volatile.Read(ref Unsafe.As<byte, ushort>(ref _ram[UsedRing + 2]));
            ReadOnlySpan<byte> used = _ram.AsSpan((int)UsedRing + 4, 8 * QueueSize);
            ulong checksum = UsedChecksum;
            for (ushort i = _lastUsed; i != usedIdx; i = unchecked((ushort)(i + 1)))
            {
                ReadOnlySpan<byte> element = used.Slice(8 * (i % QueueSize), 8);
                checksum += BinaryPrimitives.ReadUInt32LittleEndian(element) + ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(element.Slice(4)) << 32);
            }

            _lastUsed = usedIdx;
            UsedChecksum = checksum;
        }

        /// <summary>Runs one iteration and checks every used entry and response; throws if anything is off.</summary>
        public void RunAndVerifyOnce()
        {
            ushort usedBefore = _lastUsed;
            long notificationsBefore = Notifications;
            _ram.AsSpan((int)ResponseBase, 16 * Batch).Fill(0xEE);
            RunIteration();

            if (unchecked((ushort)(_lastUsed - usedBefore)) != Batch)
            {
                throw new InvalidOperationException($"device: expected {Batch} used entries, got {unchecked((ushort)(_lastUsed - usedBefore))}.");
            }

            for (int k = 0; k < Batch; k++)
            {
                int slot = (usedBefore + k) % QueueSize;
                uint id = BinaryPrimitives.ReadUInt32LittleEndian(_ram.AsSpan((int)UsedRing + 4 + (8 * slot)));
                uint len = BinaryPrimitives.ReadUInt32LittleEndian(_ram.AsSpan((int)UsedRing + 8 + (8 * slot)));
                if (id != _heads[k] || len != 2)
                {
                    throw new InvalidOperationException($"device: used entry {k} is ({id}, {len}), expected ({_heads[k]}, 2).");
                }

                int offset = (int)ResponseBase + (16 * k);
                if (_ram[offset] != 0 || _ram[offset + 1] != _levels[k % LineCount])
                {
                    throw new InvalidOperationException($"device: response {k} is ({_ram[offset]}, {_ram[offset + 1]}), expected (0, {_levels[k % LineCount]}).");
                }
            }

            if (Notifications != notificationsBefore + 1 || _device.NeedsReset)
            {
                throw new InvalidOperationException("device: expected exactly one notification per batch and a healthy device.");
            }
        }

        public void Dispose() => _device.Dispose();

        private void WriteDescriptor(ulong table, int index, ulong address, uint length, DescriptorFlags flags, ushort next)
        {
            Span<byte> d = _ram.AsSpan((int)table + (16 * index), 16);
            BinaryPrimitives.WriteUInt64LittleEndian(d, address);
            BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(8), length);
            BinaryPrimitives.WriteUInt16LittleEndian(d.Slice(12), (ushort)flags);
            BinaryPrimitives.WriteUInt16LittleEndian(d.Slice(14), next);
        }
    }
}
