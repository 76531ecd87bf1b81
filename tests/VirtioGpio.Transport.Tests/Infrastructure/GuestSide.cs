// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;

namespace VirtioGpio.Transport.Tests.Infrastructure;

/// <summary>
/// The guest half of a transport test: 1 MiB of guest memory, a real standard
/// <see cref="VirtioGpioDevice"/> with simulated lines, and one <see cref="SimulatedVirtioDriver"/>
/// per queue laying out rings the way Linux does.
/// </summary>
internal sealed class GuestSide : IDisposable
{
    public const int QueueSize = 64;

    public GuestSide(int lineCount = 8, string[]? names = null, int queueMaxSize = 256)
    {
        Memory = new TestGuestMemory(1 << 20);
        var options = new VirtioGpioDeviceOptions
        {
            LineCount = lineCount,
            RequestQueueMaxSize = queueMaxSize,
            EventQueueMaxSize = queueMaxSize,
        };
        if (names is not null)
        {
            options.LineNames = new GpioLineNames(names);
        }

        Device = new VirtioGpioDevice(options);
        RequestQueue = new SimulatedVirtioDriver(Memory, SplitRingLayout.Compact(QueueSize, new GuestAddress(0x10000)), new GuestRange(0x40000, 0x20000));
        EventQueue = new SimulatedVirtioDriver(Memory, SplitRingLayout.Compact(QueueSize, new GuestAddress(0x20000)), new GuestRange(0x60000, 0x20000));
    }

    public TestGuestMemory Memory { get; }

    public VirtioGpioDevice Device { get; }

    public SimulatedVirtioDriver RequestQueue { get; }

    public SimulatedVirtioDriver EventQueue { get; }

    public SimulatedGpioLineBackend Lines => (SimulatedGpioLineBackend)Device.Backend;

    /// <summary>Makes both rings behave as Linux does for the negotiated <paramref name="features"/>.</summary>
    public void ConfigureRings(ulong features)
    {
        foreach (SimulatedVirtioDriver ring in new[] { RequestQueue, EventQueue })
        {
            ring.EventIdxEnabled = (features & VirtioFeatures.RingEventIdx) != 0;
            ring.IndirectDescriptorsEnabled = (features & VirtioFeatures.RingIndirectDesc) != 0;
        }
    }

    public SimulatedVirtioDriver Driver(int queue) => queue == 0 ? RequestQueue : EventQueue;

    /// <summary>Queues a standard request (<c>le16 type; le16 gpio; le32 value</c>) with a response buffer, Linux style.</summary>
    public SubmittedChain AddRequest(GpioMessageType type, ushort gpio, uint value, int responseLength = 2)
    {
        byte[] request = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(request, (ushort)type);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), gpio);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), value);
        SubmittedChain chain = RequestQueue.AddChain([request], [responseLength], Shape(RequestQueue));
        RequestQueue.Publish();
        return chain;
    }

    /// <summary>Queues an eventq pair for <paramref name="gpio"/>.</summary>
    public SubmittedChain ArmIrq(ushort gpio)
    {
        byte[] request = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(request, gpio);
        SubmittedChain chain = EventQueue.AddChain([request], [1], Shape(EventQueue));
        EventQueue.Publish();
        return chain;
    }

    private static ChainShape Shape(SimulatedVirtioDriver ring) => ring.IndirectDescriptorsEnabled ? ChainShape.Indirect : ChainShape.Direct;

    public DriverCompletion TakeSingleCompletion(int queue)
    {
        Assert.True(Driver(queue).TryTakeUsed(out DriverCompletion completion), $"queue {queue} has no used entry");
        Assert.False(Driver(queue).TryTakeUsed(out _), $"queue {queue} has more than one used entry");
        return completion;
    }

    public void Dispose() => Device.Dispose();
}
