// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Testing;

/// <summary>The kit's rings as the real engine (<see cref="SplitQueue"/>) reads them.</summary>
public sealed class SimulatedVirtioDriverRoundTripTests
{
    private static readonly byte[] Request = [0x04, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00];

    // A minimal device: reads the 8-byte request, answers { 0, gpio }.
    private static int ServeAll(SplitQueue queue)
    {
        int served = 0;
        byte[] request = new byte[8];
        byte[] response = new byte[2];
        while (queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error))
        {
            Assert.Equal(VirtqueueError.None, error);
            DescriptorChainReader reader = chain.CreateReader();
            DescriptorChainWriter writer = chain.CreateWriter();
            Assert.True(reader.TryReadExactly(request));
            response[1] = request[2];
            writer.Write(response);
            Assert.Equal(VirtqueueError.None, queue.AddUsed(chain.HeadIndex, writer.BytesWritten));
            served++;
        }

        return served;
    }

    public static TheoryData<int, string> SizesAndShapes()
    {
        var data = new TheoryData<int, string>();
        foreach (int size in new[] { 2, 4, 8, 256, 32768 })
        {
            foreach (string shape in new[] { "direct", "split", "indirect", "direct+indirect" })
            {
                // A chain (indirect entries included) may not be longer than the queue size (VIRTIO 1.3 §2.7.5.3.1).
                int length = shape switch { "split" => 5, "direct+indirect" => 4, _ => 2 };
                if (length <= size)
                {
                    data.Add(size, shape);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SizesAndShapes))]
    public void EngineReadsEveryShapeTheKitWrites(int size, string shape)
    {
        var memory = new TestGuestMemory(4 << 20);
        var driver = new SimulatedVirtioDriver(memory, size) { IndirectDescriptorsEnabled = true, WritableFillByte = 0xAA };
        var recording = new RecordingGuestMemory(memory.RegionMemory);
        var queue = new SplitQueue(size);
        Assert.Equal(VirtqueueError.None, driver.ConfigureDeviceQueue(queue, recording));

        for (int round = 0; round < 3; round++)
        {
            SubmittedChain chain = shape switch
            {
                "direct" => driver.AddChain([Request], [2]),
                "split" => driver.AddChain([Request.AsMemory(0, 3), Request.AsMemory(3, 1), Request.AsMemory(4)], [1, 1]),
                "indirect" => driver.AddChain([Request], [2], ChainShape.Indirect),
                _ => driver.AddChain([Request.AsMemory(0, 3), Request.AsMemory(3)], [1, 3], ChainShape.DirectThenIndirect(1)),
            };
            driver.Publish();
            GuestRange[] writable = driver.GetDeviceWritableRanges();
            recording.Clear();

            Assert.Equal(1, ServeAll(queue));

            recording.AssertNoWritesOutside(writable);
            DriverCompletion done = Assert.Single(driver.TakeAllUsed());
            Assert.Same(chain, done.Chain);
            Assert.Equal(2u, done.Length);
            Assert.Equal(new byte[] { 0x00, 0x05 }, done.Written.ToArray());
            Assert.All(done.WritableBytes.Skip(2), b => Assert.Equal(0xAA, b));
            Assert.Equal(size, driver.FreeDescriptorCount);
        }

        Assert.Equal(0, queue.InvalidChainCount);
    }

    [Fact]
    public void QueueOfOneRoundTripsASingleDescriptorChain()
    {
        var memory = new TestGuestMemory(1 << 20);
        var driver = new SimulatedVirtioDriver(memory, 1);
        var queue = new SplitQueue(1);
        Assert.Equal(VirtqueueError.None, driver.ConfigureDeviceQueue(queue));
        for (int round = 0; round < 3; round++)
        {
            SubmittedChain chain = driver.AddChain([], [2]);
            driver.Publish();
            Assert.True(queue.TryPopAvailable(out DescriptorChain popped, out _));
            Assert.Equal(2u, popped.WritableLength);
            DescriptorChainWriter writer = popped.CreateWriter();
            writer.Write(new byte[] { 1, 2 });
            Assert.Equal(VirtqueueError.None, queue.AddUsed(popped.HeadIndex, writer.BytesWritten));
            DriverCompletion done = Assert.Single(driver.TakeAllUsed());
            Assert.Same(chain, done.Chain);
            Assert.Equal(new byte[] { 1, 2 }, done.Written.ToArray());
        }
    }

    [Fact]
    public void WorkloadLayoutWithBatchedPublishRoundTrips()
    {
        var memory = new TestGuestMemory(1 << 20);
        var driver = new SimulatedVirtioDriver(memory, SplitRingLayout.Workload(256));
        var queue = new SplitQueue(256);
        Assert.Equal(VirtqueueError.None, driver.ConfigureDeviceQueue(queue));
        Assert.Equal(new GuestAddress(0x1000), queue.AvailRingAddress);

        SubmittedChain[] chains = Enumerable.Range(0, 128).Select(_ => driver.AddChain([Request], [2])).ToArray();
        driver.Publish();
        Assert.Equal(128, ServeAll(queue));
        IReadOnlyList<DriverCompletion> done = driver.TakeAllUsed();
        Assert.Equal(chains, done.Select(d => d.Chain));
        Assert.All(done, d => Assert.Equal(2u, d.Length));
    }

    [Fact]
    public void WorkloadMdRawChainsRepublishWithoutDriverAllocations()
    {
        // bench/WORKLOAD.md: 128 two-descriptor chains set up once, republished every iteration.
        var memory = new TestGuestMemory(1 << 20);
        var driver = new SimulatedVirtioDriver(memory, SplitRingLayout.Workload(256));
        var queue = new SplitQueue(256);
        Assert.Equal(VirtqueueError.None, driver.ConfigureDeviceQueue(queue));
        driver.AllocateDescriptorIndices(256);
        for (int i = 0; i < 128; i++)
        {
            driver.WriteDescriptor(2 * i, 0x10000ul + (16ul * (ulong)i), 8, DescriptorFlags.Next, (ushort)((2 * i) + 1));
            driver.WriteDescriptor((2 * i) + 1, 0x20000ul + (16ul * (ulong)i), 2, DescriptorFlags.Write, 0);
            memory.WriteBytes(new GuestAddress(0x10000ul + (16ul * (ulong)i)), [0x04, 0x00, (byte)(i % 64), 0, 0, 0, 0, 0]);
        }

        long driverBytes = 0;
        var elements = new UsedElement[256];
        for (int iteration = 0; iteration < 3; iteration++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int k = 0; k < 128; k++)
            {
                driver.StageAvailEntry((ushort)(2 * k));
            }

            driver.Publish();
            long afterPublish = GC.GetAllocatedBytesForCurrentThread();
            Assert.Equal(128, ServeAll(queue));
            long beforeTake = GC.GetAllocatedBytesForCurrentThread();
            int taken = 0;
            while (driver.TryTakeUsedElement(out elements[taken]))
            {
                taken++;
            }

            long afterTake = GC.GetAllocatedBytesForCurrentThread(); // asserts allocate: check after measuring
            Assert.Equal(128, taken);
            Assert.Equal(Enumerable.Range(0, 128).Select(k => new UsedElement((uint)(2 * k), 2)), elements.Take(128));
            Assert.Equal(new byte[] { 0, 5 }, memory.ReadBytes(new GuestAddress(0x20000 + (16 * 5)), 2));
            if (iteration > 0)
            {
                driverBytes += (afterPublish - before) + (afterTake - beforeTake);
            }
        }

        Assert.Equal(0, driverBytes);
    }

    [Fact]
    [Trait("Spec", "2.7.10")]
    public void EngineSuppressionIsVisibleToThePublishKickDecision()
    {
        var memory = new TestGuestMemory(1 << 20);
        var driver = new SimulatedVirtioDriver(memory, 16);
        var queue = new SplitQueue(16);
        Assert.Equal(VirtqueueError.None, driver.ConfigureDeviceQueue(queue));

        Assert.Equal(VirtqueueError.None, queue.SetAvailNotifications(false));
        driver.AddChain([Request], [2]);
        Assert.False(driver.Publish());
        Assert.Equal(VirtqueueError.None, queue.SetAvailNotifications(true));
        driver.AddChain([Request], [2]);
        Assert.True(driver.Publish());
    }

    [Fact]
    public void RawMalformedChainsReachTheEngineAsIntended()
    {
        var memory = new TestGuestMemory(1 << 20);
        var driver = new SimulatedVirtioDriver(memory, 8) { IndirectDescriptorsEnabled = true };
        var queue = new SplitQueue(8);
        Assert.Equal(VirtqueueError.None, driver.ConfigureDeviceQueue(queue));
        ushort[] raw = driver.AllocateDescriptorIndices(3);
        GuestRange buffer = driver.AllocateBuffer(Request);

        // 1: a loop; 2: next out of range; 3: an indirect table holding an INDIRECT entry.
        driver.WriteDescriptor(raw[0], buffer.Start.Value, 8, DescriptorFlags.Next, raw[0]);
        driver.WriteDescriptor(raw[1], buffer.Start.Value, 8, DescriptorFlags.Next, 8);
        GuestRange nested = driver.WriteIndirectTable([new Descriptor(buffer.Start, 16, DescriptorFlags.Indirect, 0)]);
        driver.WriteDescriptor(raw[2], nested.Start.Value, 16, DescriptorFlags.Indirect, 0);
        var errors = new List<VirtqueueError>();
        queue.InvalidChainCallback = (_, error) => errors.Add(error);

        foreach (ushort head in raw)
        {
            driver.StageAvailEntry(head);
        }

        SubmittedChain good = driver.AddChain([Request], [2]);
        driver.Publish();
        Assert.Equal(1, ServeAll(queue));

        Assert.Equal(new[] { VirtqueueError.ChainTooLong, VirtqueueError.InvalidDescriptorIndex, VirtqueueError.NestedIndirectTable }, errors);
        IReadOnlyList<DriverCompletion> done = driver.TakeAllUsed();
        Assert.Equal(4, done.Count);
        Assert.Equal(raw.Select(h => (uint)h), done.Take(3).Select(d => d.Id));
        Assert.All(done.Take(3), d => Assert.Equal(0u, d.Length));
        Assert.Same(good, done[3].Chain);
    }

    [Fact]
    public void AvailIndexJumpBreaksTheQueue()
    {
        var memory = new TestGuestMemory(1 << 20);
        var driver = new SimulatedVirtioDriver(memory, 8);
        var queue = new SplitQueue(8);
        Assert.Equal(VirtqueueError.None, driver.ConfigureDeviceQueue(queue));
        driver.WriteAvailIndex(9);
        Assert.False(queue.TryPopAvailable(out _, out VirtqueueError error));
        Assert.Equal(VirtqueueError.AvailIndexOutOfRange, error);
    }
}
