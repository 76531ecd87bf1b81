// SPDX-License-Identifier: MIT
using CsCheck;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Testing;

/// <summary>
/// Any interleaving of adds (random shapes and splits), batched publishes and out-of-order
/// completions keeps the kit's free list, allocator and avail/used bookkeeping consistent with
/// what the real engine sees.
/// </summary>
public sealed class SimulatedVirtioDriverProperties
{
    [Fact]
    public void RandomAddPublishCompleteSequencesStayConsistent() =>
        Gen.ULong.Sample(seed => RunScenario(seed), iter: 150, threads: 1);

    private static void RunScenario(ulong seed)
    {
        var random = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
        int size = 1 << random.Next(1, 5); // 2..16
        var memory = new TestGuestMemory(1 << 20);
        var driver = new SimulatedVirtioDriver(memory, size) { IndirectDescriptorsEnabled = true, WritableFillByte = 0xAA };
        var queue = new SplitQueue(size);
        Assert.Equal(VirtqueueError.None, driver.ConfigureDeviceQueue(queue));
        ulong initialFree = driver.Allocator.FreeBytes;
        var popped = new List<(ushort Head, byte Tag)>();
        var expectedTag = new Dictionary<SubmittedChain, byte>();
        byte nextTag = 1;

        for (int step = 0; step < 200; step++)
        {
            int op = random.Next(4);
            if (op == 0)
            {
                // Add a chain: request = 8 bytes carrying a tag, split at random; response 1..4 bytes split at random.
                byte tag = nextTag++;
                byte[] request = [tag, 0, 0, 0, 0, 0, 0, tag];
                int cut = random.Next(1, 8);
                bool split = random.Next(2) == 0;
                ReadOnlyMemory<byte>[] readable = split ? [request.AsMemory(0, cut), request.AsMemory(cut)] : [request];
                int[] writable = random.Next(2) == 0 ? [2] : [1, 1];
                int buffers = readable.Length + writable.Length;
                ChainShape shape = random.Next(3) switch
                {
                    0 => ChainShape.Direct,
                    1 => ChainShape.Indirect,
                    _ => ChainShape.DirectThenIndirect(random.Next(0, buffers)),
                };
                int chainLength = buffers; // descriptors the engine walks (indirect entries included)
                int ringSlots = shape.Kind switch
                {
                    ChainShapeKind.Direct => buffers,
                    ChainShapeKind.Indirect => 1,
                    _ => shape.DirectCount + 1,
                };
                if (chainLength > size || ringSlots > driver.FreeDescriptorCount)
                {
                    continue;
                }

                SubmittedChain chain = driver.AddChain(readable, writable, shape);
                expectedTag[chain] = tag;
            }
            else if (op == 1)
            {
                driver.Publish();
            }
            else if (op == 2)
            {
                // Device: pop everything published.
                while (queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error))
                {
                    Assert.Equal(VirtqueueError.None, error);
                    byte[] request = new byte[8];
                    DescriptorChainReader reader = chain.CreateReader();
                    Assert.True(reader.TryReadExactly(request));
                    Assert.Equal(request[0], request[7]);
                    popped.Add((chain.HeadIndex, request[0]));
                }
            }
            else if (popped.Count > 0)
            {
                // Device: complete one popped chain, out of order.
                int pick = random.Next(popped.Count);
                (ushort head, byte tag) = popped[pick];
                popped.RemoveAt(pick);
                Assert.True(queue.TryReadChain(head, out DescriptorChain chain, out _));
                DescriptorChainWriter writer = chain.CreateWriter();
                writer.Write(new byte[] { 0, tag });
                Assert.Equal(VirtqueueError.None, queue.AddUsed(head, writer.BytesWritten));
                DriverCompletion done = Assert.Single(driver.TakeAllUsed());
                SubmittedChain submitted = Assert.IsType<SubmittedChain>(done.Chain);
                Assert.Equal(expectedTag[submitted], tag);
                Assert.Equal(new byte[] { 0, tag }, done.WritableBytes);
                expectedTag.Remove(submitted);
            }
        }

        // Drain: publish, pop, complete everything; the driver must end where it started.
        driver.Publish();
        while (queue.TryPopAvailable(out DescriptorChain chain, out _))
        {
            byte[] request = new byte[8];
            DescriptorChainReader reader = chain.CreateReader();
            Assert.True(reader.TryReadExactly(request));
            popped.Add((chain.HeadIndex, request[0]));
        }

        foreach ((ushort head, byte tag) in popped)
        {
            Assert.True(queue.TryReadChain(head, out DescriptorChain chain, out _));
            DescriptorChainWriter writer = chain.CreateWriter();
            writer.Write(new byte[] { 0, tag });
            Assert.Equal(VirtqueueError.None, queue.AddUsed(head, writer.BytesWritten));
        }

        Assert.Equal(expectedTag.Count, driver.TakeAllUsed().Count);
        Assert.Equal(0, driver.OutstandingChainCount);
        Assert.Equal(size, driver.FreeDescriptorCount);
        Assert.Equal(initialFree, driver.Allocator.FreeBytes);
        Assert.Equal(0, queue.InvalidChainCount);
    }
}
