// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Virtqueues;

/// <summary>
/// One test per chain-level validation rule (docs/virtqueue.md). Each malformed chain sits between
/// two valid requests: it must be completed with used length 0, counted, reported, and must not
/// disturb its neighbours or break the queue.
/// </summary>
public class ChainValidationTests
{
    [Fact]
    [Trait("Spec", "GV4")]
    public void DirectLoop_IsChainTooLong()
        => AssertRejected(VirtqueueError.ChainTooLong, ring =>
        {
            ring.WriteDescriptor(10, ring.Alloc(4), 4, DescriptorFlags.Next, 11);
            ring.WriteDescriptor(11, ring.Alloc(4), 4, DescriptorFlags.Next, 10);
            return 10;
        });

    [Fact]
    [Trait("Spec", "GV4")]
    public void SelfLoop_IsChainTooLong()
        => AssertRejected(VirtqueueError.ChainTooLong, ring =>
        {
            ring.WriteDescriptor(10, ring.Alloc(4), 4, DescriptorFlags.Next, 10);
            return 10;
        });

    [Fact]
    [Trait("Spec", "GV4")]
    public void IndirectTableLoop_IsChainTooLong()
        => AssertRejected(VirtqueueError.ChainTooLong, ring =>
        {
            ulong b = ring.Alloc(4);
            ulong table = ring.AddIndirectTable((b, 4, DescriptorFlags.Next, 1), (b, 4, DescriptorFlags.Next, 0));
            ring.WriteDescriptor(10, table, 32, DescriptorFlags.Indirect);
            return 10;
        });

    [Fact]
    [Trait("Spec", "GV4")]
    public void DirectPlusIndirectBuffersBeyondQueueSize_IsChainTooLong()
        => AssertRejected(VirtqueueError.ChainTooLong, ring =>
        {
            // Queue size 16: 11 direct buffers (descriptors 4..14) + an indirect table of 6 = 17 buffers.
            ulong b = ring.Alloc(1);
            for (int i = 4; i <= 14; i++)
            {
                ring.WriteDescriptor(i, b, 1, DescriptorFlags.Next, (ushort)(i + 1));
            }

            var entries = new (ulong, uint, DescriptorFlags, ushort)[6];
            for (int i = 0; i < 6; i++)
            {
                entries[i] = (b, 1, i < 5 ? DescriptorFlags.Next : DescriptorFlags.None, (ushort)(i + 1));
            }

            ring.WriteDescriptor(15, ring.AddIndirectTable(entries), 16 * 6, DescriptorFlags.Indirect);
            return 4;
        });

    [Fact]
    [Trait("Spec", "GV4")]
    public void ChainOfExactlyQueueSizeBuffersThroughIndirect_IsAccepted()
    {
        var ring = new RingFixture(16);
        SplitQueue queue = ring.CreateQueue(indirect: true);
        ulong b = ring.Alloc(1);
        var entries = new (ulong, uint, DescriptorFlags, ushort)[15];
        for (int i = 0; i < 15; i++)
        {
            entries[i] = (b, 1, i < 14 ? DescriptorFlags.Next : DescriptorFlags.Write, (ushort)(i + 1));
        }

        ring.WriteDescriptor(0, b, 1, DescriptorFlags.Next, 1);
        ring.WriteDescriptor(1, ring.AddIndirectTable(entries), 16 * 15, DescriptorFlags.Indirect);
        ring.Publish(0);
        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error), error.ToString());
        Assert.Equal(16, chain.Descriptors.Length);
        Assert.Equal(15u, chain.ReadableLength);
        Assert.Equal(1u, chain.WritableLength);
    }

    [Fact]
    [Trait("Spec", "GV2")]
    public void NextBeyondTable_IsInvalidDescriptorIndex()
        => AssertRejected(VirtqueueError.InvalidDescriptorIndex, ring =>
        {
            ring.WriteDescriptor(10, ring.Alloc(4), 4, DescriptorFlags.Next, 16);
            return 10;
        });

    [Fact]
    [Trait("Spec", "GV2")]
    public void IndirectNextBeyondTable_IsInvalidDescriptorIndex()
        => AssertRejected(VirtqueueError.InvalidDescriptorIndex, ring =>
        {
            ulong b = ring.Alloc(4);
            ulong table = ring.AddIndirectTable((b, 4, DescriptorFlags.Next, 2), (b, 4, DescriptorFlags.Write, 0));
            ring.WriteDescriptor(10, table, 32, DescriptorFlags.Indirect);
            return 10;
        });

    [Theory]
    [InlineData(0u)]
    [InlineData(15u)]
    [InlineData(17u)]
    [InlineData(16u * 17)] // 17 entries > queue size 16
    [Trait("Spec", "GV6")]
    public void BadIndirectTableLength_IsInvalidIndirectTableLength(uint length)
        => AssertRejected(VirtqueueError.InvalidIndirectTableLength, ring =>
        {
            ulong table = ring.Alloc(16 * 17);
            ring.WriteDescriptor(10, table, length, DescriptorFlags.Indirect);
            return 10;
        });

    [Fact]
    [Trait("Spec", "GV5")]
    public void IndirectInsideIndirect_IsNestedIndirectTable()
        => AssertRejected(VirtqueueError.NestedIndirectTable, ring =>
        {
            ulong inner = ring.AddIndirectTable((ring.Alloc(4), 4, DescriptorFlags.None, 0));
            ulong outer = ring.AddIndirectTable((inner, 16, DescriptorFlags.Indirect, 0));
            ring.WriteDescriptor(10, outer, 16, DescriptorFlags.Indirect);
            return 10;
        });

    [Fact]
    [Trait("Spec", "GV5")]
    public void IndirectWithNext_IsRejected()
        => AssertRejected(VirtqueueError.IndirectWithNext, ring =>
        {
            ulong table = ring.AddIndirectTable((ring.Alloc(4), 4, DescriptorFlags.None, 0));
            ring.WriteDescriptor(10, table, 16, DescriptorFlags.Indirect | DescriptorFlags.Next, 11);
            ring.WriteDescriptor(11, ring.Alloc(2), 2, DescriptorFlags.Write);
            return 10;
        });

    [Fact]
    [Trait("Spec", "GV5")]
    public void IndirectWithoutTheFeature_IsIndirectNotNegotiated()
        => AssertRejected(VirtqueueError.IndirectNotNegotiated, ring =>
        {
            ulong table = ring.AddIndirectTable((ring.Alloc(4), 4, DescriptorFlags.None, 0));
            ring.WriteDescriptor(10, table, 16, DescriptorFlags.Indirect);
            return 10;
        }, indirect: false);

    [Fact]
    [Trait("Spec", "GV7")]
    public void AddressPlusLengthWrapping_IsAddressOverflow()
        => AssertRejected(VirtqueueError.AddressOverflow, ring =>
        {
            ring.WriteDescriptor(10, ulong.MaxValue - 2, 8, DescriptorFlags.None);
            return 10;
        });

    [Fact]
    [Trait("Spec", "GV7")]
    public void IndirectTableAddressWrapping_IsAddressOverflow()
        => AssertRejected(VirtqueueError.AddressOverflow, ring =>
        {
            ring.WriteDescriptor(10, ulong.MaxValue - 15, 32, DescriptorFlags.Indirect);
            return 10;
        });

    [Fact]
    [Trait("Spec", "GV7")]
    public void TotalLengthOf2Pow32_IsChainLengthOverflow()
        => AssertRejected(VirtqueueError.ChainLengthOverflow, ring =>
        {
            ring.WriteDescriptor(10, HugeBase, uint.MaxValue, DescriptorFlags.Next, 11);
            ring.WriteDescriptor(11, HugeBase, 1, DescriptorFlags.Write);
            return 10;
        }, memory: ring => new RegionGuestMemory(new[]
        {
            new GuestMemoryRegion(new GuestAddress(0), ring.Ram),

            // An 8 GiB region so the buffers pass the memory check and only the total is wrong. Its
            // host pointer is never dereferenced: validation only compares ranges, and this test
            // never reads or writes the bad chain's buffers.
            GuestMemoryRegion.FromHostPointer(new GuestAddress(HugeBase), 0x1000, 8UL << 30),
        }));

    private const ulong HugeBase = 0x1_0000_0000UL;

    [Fact]
    [Trait("Spec", "GV9")]
    public void BufferStartingInsideButEndingOutsideMemory_IsGuestMemoryUnavailable()
        => AssertRejected(VirtqueueError.GuestMemoryUnavailable, ring =>
        {
            ring.WriteDescriptor(10, (ulong)ring.Ram.Length - 4, 8, DescriptorFlags.None);
            return 10;
        });

    [Fact]
    [Trait("Spec", "GV9")]
    public void BufferOutsideMemory_IsGuestMemoryUnavailable()
        => AssertRejected(VirtqueueError.GuestMemoryUnavailable, ring =>
        {
            ring.WriteDescriptor(10, 0x1_0000_0000UL, 8, DescriptorFlags.None);
            return 10;
        });

    [Fact]
    [Trait("Spec", "GV9")]
    public void IndirectTableOutsideMemory_IsGuestMemoryUnavailable()
        => AssertRejected(VirtqueueError.GuestMemoryUnavailable, ring =>
        {
            ring.WriteDescriptor(10, (ulong)ring.Ram.Length - 16, 32, DescriptorFlags.Indirect);
            return 10;
        });

    [Fact]
    [Trait("Spec", "G2")]
    public void WritableBufferInReadOnlyMemory_IsGuestMemoryUnavailable()
    {
        // A read-only region after the RAM: readable buffers there are fine, writable ones are not.
        byte[] rom = new byte[0x1000];
        AssertRejected(VirtqueueError.GuestMemoryUnavailable, ring =>
        {
            ring.WriteDescriptor(10, RomBase(ring), 4, DescriptorFlags.Write);
            return 10;
        }, memory: ring => new RegionGuestMemory(new[]
        {
            new GuestMemoryRegion(new GuestAddress(0), ring.Ram),
            new GuestMemoryRegion(new GuestAddress(RomBase(ring)), rom, GuestMemoryAccess.Read),
        }));
    }

    [Fact]
    [Trait("Spec", "GV8")]
    public void ReadableAfterWritable_IsRejected()
        => AssertRejected(VirtqueueError.ReadableAfterWritable, ring =>
        {
            ring.WriteDescriptor(10, ring.Alloc(2), 2, DescriptorFlags.Write | DescriptorFlags.Next, 11);
            ring.WriteDescriptor(11, ring.Alloc(8), 8, DescriptorFlags.None);
            return 10;
        });

    [Fact]
    [Trait("Spec", "GV8")]
    public void ReadableAfterWritableInsideIndirectTable_IsRejected()
        => AssertRejected(VirtqueueError.ReadableAfterWritable, ring =>
        {
            ulong table = ring.AddIndirectTable((ring.Alloc(2), 2, DescriptorFlags.Write | DescriptorFlags.Next, 1), (ring.Alloc(8), 8, DescriptorFlags.None, 0));
            ring.WriteDescriptor(10, table, 32, DescriptorFlags.Indirect);
            return 10;
        });

    [Fact]
    public void ValidationRunsOnTheGenericMemoryPathToo()
        => AssertRejected(VirtqueueError.GuestMemoryUnavailable, ring =>
        {
            ring.WriteDescriptor(10, (ulong)ring.Ram.Length - 4, 8, DescriptorFlags.None);
            return 10;
        }, memory: ring => new CountingGuestMemory(ring.Regions));

    [Fact]
    public void BufferAcrossAdjacentRegions_IsAccepted_AndReadAcrossTheBoundary()
    {
        byte[] low = new byte[0x10000];
        byte[] high = new byte[0x10000];
        var memory = new RegionGuestMemory(new[] { new GuestMemoryRegion(new GuestAddress(0), low), new GuestMemoryRegion(new GuestAddress(0x10000), high) });
        var queue = new SplitQueue(8) { Memory = memory };
        Assert.True(queue.TrySetSize(8));
        Assert.True(queue.TrySetAddresses(new GuestAddress(0), new GuestAddress(0x1000), new GuestAddress(0x2000)));
        Assert.Equal(VirtqueueError.None, queue.TryActivate());
        low.AsSpan(0xFFFC, 4).Fill(1);
        high.AsSpan(0, 4).Fill(2);
        RingFixture.WriteDescriptor(low, 0, 0, 0xFFFC, 8, DescriptorFlags.None, 0);
        low[0x1004] = 0; // ring[0] = head 0
        low[0x1002] = 1; // avail.idx = 1

        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error), error.ToString());
        Span<byte> data = stackalloc byte[8];
        Assert.True(chain.CreateReader().TryReadExactly(data));
        Assert.Equal(new byte[] { 1, 1, 1, 1, 2, 2, 2, 2 }, data.ToArray());
    }

    [Fact]
    public void ZeroLengthBuffers_AreAcceptedAndSkipped()
    {
        var ring = new RingFixture(16);
        SplitQueue queue = ring.CreateQueue();
        ulong data = ring.AllocWith(new byte[] { 1, 2 });
        ushort head = ring.AddChain((0xDEAD_0000_0000UL, 0, false), (data, 2, false));
        ring.Publish(head);
        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
        Span<byte> bytes = stackalloc byte[2];
        Assert.True(chain.CreateReader().TryReadExactly(bytes));
        Assert.Equal(new byte[] { 1, 2 }, bytes.ToArray());
    }

    [Fact]
    [Trait("Spec", "GV7")]
    public void TotalLengthOf2Pow32_IsChainLengthOverflow_EvenAsAPairInTheCachedRegion()
    {
        // The engine walks a readable + writable pair straight-line when both buffers lie in the region it cached
        // for the previous chain. Here that region is 8 GiB, so both buffers pass the region check and only the
        // 32-bit total (GV7) can reject the pair.
        AssertRejectedInCachedRegion(VirtqueueError.ChainLengthOverflow, HugeBase, ring =>
        {
            ring.WriteDescriptor(10, HugeBase, uint.MaxValue, DescriptorFlags.Next, 11);
            ring.WriteDescriptor(11, HugeBase + 0x1000, 1, DescriptorFlags.Write);
            return 10;
        }, ring => new RegionGuestMemory(new[]
        {
            new GuestMemoryRegion(new GuestAddress(0), ring.Ram),
            GuestMemoryRegion.FromHostPointer(new GuestAddress(HugeBase), 0x1000, 8UL << 30), // never dereferenced
        }));
    }

    [Fact]
    [Trait("Spec", "G2")]
    public void WritableBufferInReadOnlyMemory_IsGuestMemoryUnavailable_EvenAsAPairInTheCachedRegion()
    {
        // As above, with a read-only cached region: the pair's readable buffer fits, its writable one must not.
        byte[] rom = new byte[0x1000];
        AssertRejectedInCachedRegion(VirtqueueError.GuestMemoryUnavailable, 0, ring =>
        {
            ring.WriteDescriptor(10, RomBase(ring), 8, DescriptorFlags.Next, 11);
            ring.WriteDescriptor(11, RomBase(ring) + 0x10, 2, DescriptorFlags.Write);
            return 10;
        }, ring => new RegionGuestMemory(new[]
        {
            new GuestMemoryRegion(new GuestAddress(0), ring.Ram),
            new GuestMemoryRegion(new GuestAddress(RomBase(ring)), rom, GuestMemoryAccess.Read),
        }));
    }

    private static ulong RomBase(RingFixture ring) => RingFixture.AlignUp((ulong)ring.Ram.Length, 0x1000);

    /// <summary>
    /// A one-descriptor readable chain in the bad chain's region is popped first (the engine caches that region), then
    /// the bad pair. <paramref name="regionBase"/> 0 means the second region of <paramref name="memory"/>, at RomBase.
    /// </summary>
    private static void AssertRejectedInCachedRegion(VirtqueueError expected, ulong regionBase, Func<RingFixture, ushort> writeBadChain, Func<RingFixture, IGuestMemory> memory)
    {
        var ring = new RingFixture(16);
        ring.Memory = memory(ring);
        ulong warmAddress = regionBase != 0 ? regionBase + 0x2000 : RomBase(ring) + 0x100;
        SplitQueue queue = ring.CreateQueue();
        ring.WriteDescriptor(4, warmAddress, 8, DescriptorFlags.None);
        ushort bad = writeBadChain(ring);
        ring.Publish(4, bad);

        Assert.True(queue.TryPopAvailable(out DescriptorChain warm, out VirtqueueError warmError), $"pop failed: {warmError}");
        Assert.Equal(4, warm.HeadIndex);
        Assert.Equal(VirtqueueError.None, queue.AddUsed(4, 0)); // its buffer is never touched

        Assert.False(queue.TryPopAvailable(out _, out VirtqueueError error));
        Assert.Equal(VirtqueueError.None, error);
        Assert.False(queue.IsBroken);
        Assert.Equal(2, ring.UsedIdx);
        Assert.Equal((bad, 0u), ring.UsedElement(1));
        Assert.Equal(1, queue.InvalidChainCount);
        Assert.Equal(expected, queue.LastChainError);
        Assert.Equal(0, queue.InFlightCount);
    }

    private static void AssertRejected(
        VirtqueueError expected,
        Func<RingFixture, ushort> writeBadChain,
        int size = 16,
        bool indirect = true,
        Func<RingFixture, IGuestMemory>? memory = null)
    {
        var ring = new RingFixture(size);
        if (memory is not null)
        {
            ring.Memory = memory(ring);
        }

        SplitQueue queue = ring.CreateQueue(indirect: indirect);

        var reported = new List<(ushort Head, VirtqueueError Reason)>();
        queue.InvalidChainCallback = (head, reason) => reported.Add((head, reason));

        (ushort before, _, ulong beforeResponse) = ring.AddRequest(1);
        ushort bad = writeBadChain(ring);
        (ushort after, _, ulong afterResponse) = ring.AddRequest(2);
        ring.Publish(before, bad, after);

        foreach ((ushort head, ulong response) in new[] { (before, beforeResponse), (after, afterResponse) })
        {
            Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error), $"pop failed: {error}");
            Assert.Equal(head, chain.HeadIndex);
            Assert.Equal(2, chain.Descriptors.Length);
            DescriptorChainWriter writer = chain.CreateWriter();
            Assert.True(writer.TryWriteExactly(new byte[] { 0, (byte)head }));
            Assert.Equal(VirtqueueError.None, queue.AddUsed(head, writer.BytesWritten));
            Assert.Equal((byte)head, ring.Ram[response + 1]);
        }

        Assert.False(queue.IsBroken);
        Assert.Equal(3, ring.UsedIdx);
        Assert.Equal((before, 2u), ring.UsedElement(0));
        Assert.Equal((bad, 0u), ring.UsedElement(1));
        Assert.Equal((after, 2u), ring.UsedElement(2));
        Assert.Equal(1, queue.InvalidChainCount);
        Assert.Equal(expected, queue.LastChainError);
        Assert.Equal(new[] { (bad, expected) }, reported);
        Assert.Equal(0, queue.InFlightCount);
    }
}
