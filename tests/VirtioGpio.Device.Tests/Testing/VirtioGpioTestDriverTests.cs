// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Testing;

/// <summary>
/// Checks what the GPIO test driver puts on the wire, against a scripted device built on the real
/// <see cref="SplitQueue"/> (so the test is about the driver, not about a device's policy).
/// </summary>
public sealed class VirtioGpioTestDriverTests
{
    [Fact]
    public void InitializeNegotiatesReadsConfigBytewiseAndEnablesBothQueues()
    {
        var device = new ScriptedGpioDevice();
        var driver = new VirtioGpioTestDriver(device);
        driver.Initialize();

        Assert.Equal(device.DeviceFeatures, driver.NegotiatedFeatures);
        Assert.Equal(device.DeviceFeatures, device.DriverFeatures);
        Assert.Equal(new GpioConfigSnapshot(8, 0, 5), driver.Config);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => ((uint)i, 1)), device.ConfigReads);
        Assert.True(device.GetQueue(0).IsReady);
        Assert.True(device.GetQueue(1).IsReady);
        Assert.Same(driver.Interrupts, device.Sink);
        Assert.Throws<InvalidOperationException>(driver.Initialize);
    }

    [Fact]
    public void RequestsAreEightByteLittleEndianInOneIndirectDescriptorWhenNegotiated()
    {
        var device = new ScriptedGpioDevice();
        var driver = new VirtioGpioTestDriver(device);
        driver.Initialize();

        GpioCompletion reply = driver.SendRequest(0x0304, 0x0605, 0x0A090807);

        Assert.Equal(new byte[] { 0x04, 0x03, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A }, device.Requests.Single());
        Assert.Equal(1, device.DescriptorCounts.Single().Ring);      // one ring descriptor…
        Assert.True(device.DescriptorCounts.Single().Indirect);     // …that is INDIRECT, with a 2-entry table
        Assert.Equal(2u, reply.UsedLength);
        Assert.Equal(0x00, reply.Status);
        Assert.Equal(0x05, reply.Value);
        Assert.True(reply.IsOk);
        Assert.True(driver.Interrupts.GetUsedBufferNotificationCount(0) >= 1);
    }

    [Fact]
    public void WithoutIndirectEachMessageIsTwoDirectDescriptors()
    {
        var device = new ScriptedGpioDevice();
        var driver = new VirtioGpioTestDriver(device, new VirtioGpioTestDriverOptions { RequestedFeatures = VirtioFeatures.Version1 });
        driver.Initialize();

        Assert.False(driver.IrqNegotiated);
        Assert.Null(driver.EventQueue);
        Assert.True(driver.GetValue(3).IsOk);
        Assert.Equal((2, false), device.DescriptorCounts.Single());
        Assert.Throws<InvalidOperationException>(() => driver.ArmIrq(3));
    }

    [Fact]
    public void ResponseBuffersArePrefilledSoUnwrittenBytesShow()
    {
        var device = new ScriptedGpioDevice { ResponseLength = 1 };
        var driver = new VirtioGpioTestDriver(device);
        driver.Initialize();

        GpioCompletion reply = driver.GetValue(2);
        Assert.Equal(1u, reply.UsedLength);
        Assert.Equal(new byte[] { 0x00, 0xAA }, reply.ResponseBuffer);
        Assert.False(reply.HasExpectedLength);
        Assert.False(reply.IsOk);
    }

    [Fact]
    public void GetLineNamesUsesAOnePlusNResponseBuffer()
    {
        var device = new ScriptedGpioDevice();
        var driver = new VirtioGpioTestDriver(device);
        driver.Initialize();

        GpioCompletion names = driver.GetLineNames();
        Assert.Equal(6, names.ExpectedLength);
        Assert.Equal(6, device.WritableLengths.Single());
        Assert.True(names.IsOk);
        Assert.Equal("a\0\0\0\0"u8.ToArray(), names.Payload.ToArray());
    }

    [Fact]
    public void SeveralRequestsCanBeInFlightAndCompleteOutOfOrder()
    {
        var device = new ScriptedGpioDevice { HoldRequests = true };
        var driver = new VirtioGpioTestDriver(device);
        driver.Initialize();

        GpioRequestHandle[] handles = Enumerable.Range(0, 4).Select(i => driver.SubmitRequest(4, (ushort)i, 0)).ToArray();
        Assert.All(handles, h => Assert.False(driver.TryGetCompletion(h, out _)));

        device.CompleteHeld(reverse: true);
        GpioCompletion[] replies = handles.Select(h => driver.WaitForCompletion(h)).ToArray();
        Assert.Equal(new byte[] { 0, 1, 2, 3 }, replies.Select(r => r.Value));
        Assert.Empty(driver.UnexpectedCompletions);
        Assert.Equal(driver.RequestQueue.QueueSize, driver.RequestQueue.FreeDescriptorCount);
    }

    [Fact]
    public void WaitingForAnAnswerThatNeverComesTimesOut()
    {
        var device = new ScriptedGpioDevice { HoldRequests = true };
        var driver = new VirtioGpioTestDriver(device, new VirtioGpioTestDriverOptions { Timeout = TimeSpan.FromMilliseconds(50) });
        driver.Initialize();
        Assert.Throws<TimeoutException>(() => driver.GetValue(0));
    }

    [Fact]
    public void EventqPairsAreTwoPlusOneBytesAndComeBackInFiringOrder()
    {
        var device = new ScriptedGpioDevice();
        var driver = new VirtioGpioTestDriver(device);
        driver.Initialize();

        driver.ArmIrq(3);
        driver.ArmIrq(5);
        Assert.Equal(2, driver.ArmedIrqCount);
        Assert.Equal(new[] { new byte[] { 3, 0 }, new byte[] { 5, 0 } }, device.IrqRequests);
        Assert.False(driver.TryTakeIrqCompletion(out _));

        device.FireIrq(5, status: 1);
        device.FireIrq(3, status: 0);
        GpioIrqCompletion first = driver.WaitForIrqCompletion();
        Assert.True(driver.TryTakeIrqCompletion(out GpioIrqCompletion second));
        Assert.Equal((5, true), (first.Line, first.IsValid));
        Assert.Equal((3, true), (second.Line, second.IsInvalid));
        Assert.Equal(0, driver.ArmedIrqCount);
        Assert.False(driver.IsIrqArmed(3));
        Assert.False(driver.TryWaitForIrqCompletion(TimeSpan.FromMilliseconds(1), out _));
    }

    [Fact]
    public void ResetDeviceAllowsANewInitialize()
    {
        var device = new ScriptedGpioDevice();
        var driver = new VirtioGpioTestDriver(device);
        driver.Initialize();
        driver.ResetDevice();
        Assert.Equal(1, device.ResetCount);
        driver.Initialize();
        Assert.True(driver.GetValue(1).IsOk);
    }

    /// <summary>
    /// A scripted standard GPIO device: 8 lines, names block "a\0\0\0\0" (5 bytes), answers
    /// { OK, gpio } to everything, holds eventq pairs until <see cref="FireIrq"/>.
    /// </summary>
    private sealed class ScriptedGpioDevice : IVirtioDevice
    {
        private readonly SplitQueue[] _queues = [new SplitQueue(256), new SplitQueue(256)];
        private readonly List<(ushort Head, ushort Line)> _heldIrqs = new();
        private readonly List<(ushort Head, ushort Gpio)> _heldRequests = new();

        public IVirtioInterruptSink? Sink { get; private set; }

        public List<byte[]> Requests { get; } = new();

        public List<byte[]> IrqRequests { get; } = new();

        public List<int> WritableLengths { get; } = new();

        public List<(int Ring, bool Indirect)> DescriptorCounts { get; } = new();

        public List<(uint Offset, int Length)> ConfigReads { get; } = new();

        public int ResponseLength { get; init; } = 2;

        public bool HoldRequests { get; init; }

        public int ResetCount { get; private set; }

        public uint DeviceId => VirtioGpioTestDriver.StandardDeviceId;

        public ulong DeviceFeatures => VirtioFeatures.Version1 | VirtioFeatures.RingIndirectDesc | VirtioFeatures.RingEventIdx | VirtioGpioTestDriver.FeatureIrq;

        public ulong DriverFeatures { get; private set; }

        public int ConfigSize => 8;

        public uint ConfigGeneration => 0;

        public int QueueCount => 2;

        public bool IsActive { get; private set; }

        public bool NeedsReset => false;

        private IGuestMemory? Memory { get; set; }

        public bool TryAcceptFeatures(ulong driverFeatures)
        {
            if ((driverFeatures & ~DeviceFeatures) != 0)
            {
                return false;
            }

            DriverFeatures = driverFeatures;
            return true;
        }

        public void ReadConfig(uint offset, Span<byte> destination)
        {
            ConfigReads.Add((offset, destination.Length));
            Span<byte> config = stackalloc byte[8];
            BinaryPrimitives.WriteUInt16LittleEndian(config, 8);
            BinaryPrimitives.WriteUInt32LittleEndian(config.Slice(4), 5);
            destination.Clear();
            if (offset < 8)
            {
                config.Slice((int)offset, Math.Min(destination.Length, 8 - (int)offset)).CopyTo(destination);
            }
        }

        public void WriteConfig(uint offset, ReadOnlySpan<byte> source)
        {
        }

        public SplitQueue GetQueue(int queueIndex) => _queues[queueIndex];

        public void Activate(IGuestMemory memory, IVirtioInterruptSink interrupts)
        {
            Memory = memory;
            Sink = interrupts;
            foreach (SplitQueue queue in _queues)
            {
                queue.Memory = memory;
                queue.IndirectDescriptorsEnabled = (DriverFeatures & VirtioFeatures.RingIndirectDesc) != 0;
                queue.EventIdxEnabled = (DriverFeatures & VirtioFeatures.RingEventIdx) != 0;
            }

            IsActive = true;
        }

        public VirtqueueError SetQueueReady(int queueIndex, bool ready)
        {
            if (!ready)
            {
                _queues[queueIndex].Deactivate();
                return VirtqueueError.None;
            }

            return _queues[queueIndex].TryActivate();
        }

        public void NotifyQueue(int queueIndex)
        {
            SplitQueue queue = _queues[queueIndex];
            while (queue.TryPopAvailable(out DescriptorChain chain, out _))
            {
                byte[] request = new byte[chain.ReadableLength];
                DescriptorChainReader reader = chain.CreateReader();
                reader.Read(request);
                Descriptor head = ReadRingDescriptor(queue, chain.HeadIndex);
                int ringDescriptors = 1;
                for (Descriptor d = head; d.HasNext; d = ReadRingDescriptor(queue, d.Next))
                {
                    ringDescriptors++;
                }

                if (queueIndex == 1)
                {
                    IrqRequests.Add(request);
                    _heldIrqs.Add((chain.HeadIndex, BinaryPrimitives.ReadUInt16LittleEndian(request)));
                    continue;
                }

                Requests.Add(request);
                WritableLengths.Add((int)chain.WritableLength);
                DescriptorCounts.Add((ringDescriptors, head.IsIndirect));
                ushort gpio = BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(2));
                if (HoldRequests)
                {
                    _heldRequests.Add((chain.HeadIndex, gpio));
                    continue;
                }

                byte[] response = BinaryPrimitives.ReadUInt16LittleEndian(request) == 1
                    ? [0, (byte)'a', 0, 0, 0, 0]
                    : [0, unchecked((byte)gpio)];
                DescriptorChainWriter writer = chain.CreateWriter();
                writer.Write(response.AsSpan(0, Math.Min(response.Length, ResponseLength == 2 ? response.Length : ResponseLength)));
                queue.AddUsed(chain.HeadIndex, writer.BytesWritten);
            }

            // With EVENT_IDX this publishes avail_event = next avail, so the driver kicks again (Linux only kicks when asked).
            queue.SetAvailNotifications(true);
            if (queue.NeedsNotification())
            {
                Sink!.NotifyUsedBuffers(queueIndex);
            }
        }

        public void CompleteHeld(bool reverse)
        {
            IEnumerable<(ushort Head, ushort Gpio)> order = reverse ? Enumerable.Reverse(_heldRequests) : _heldRequests;
            foreach ((ushort head, ushort gpio) in order)
            {
                Span<byte> response = [0, unchecked((byte)gpio)];
                WriteResponse(_queues[0], head, response);
            }

            _heldRequests.Clear();
            Sink!.NotifyUsedBuffers(0);
        }

        public void FireIrq(ushort line, byte status)
        {
            int index = _heldIrqs.FindIndex(p => p.Line == line);
            (ushort head, _) = _heldIrqs[index];
            _heldIrqs.RemoveAt(index);
            WriteResponse(_queues[1], head, [status]);
            Sink!.NotifyUsedBuffers(1);
        }

        public void ResubmitInflight(int queueIndex, ReadOnlySpan<ushort> headIndices)
        {
        }

        public void ResetQueue(int queueIndex) => _queues[queueIndex].Reset();

        public void Reset()
        {
            ResetCount++;
            foreach (SplitQueue queue in _queues)
            {
                queue.Reset();
            }

            DriverFeatures = 0;
            IsActive = false;
        }

        private static void WriteResponse(SplitQueue queue, ushort head, ReadOnlySpan<byte> response)
        {
            Assert.True(queue.TryReadChain(head, out DescriptorChain chain, out _));
            DescriptorChainWriter writer = chain.CreateWriter();
            writer.Write(response);
            Assert.Equal(VirtqueueError.None, queue.AddUsed(head, writer.BytesWritten));
        }

        private Descriptor ReadRingDescriptor(SplitQueue queue, ushort index)
        {
            byte[] raw = new byte[16];
            Assert.Equal(GuestMemoryError.None, Memory!.TryRead(new GuestAddress(queue.DescriptorTableAddress.Value + (16ul * index)), raw));
            Descriptor.TryRead(raw, out Descriptor descriptor);
            return descriptor;
        }
    }
}
