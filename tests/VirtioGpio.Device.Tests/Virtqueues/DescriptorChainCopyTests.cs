// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Virtqueues;

/// <summary>
/// <see cref="DescriptorChain.TryCopyFromReadable{T}(out T)"/> / <see cref="DescriptorChain.TryCopyToWritable{T}(in T)"/>
/// (the fixed-size header/response copies), and the queue's cached buffer region behind every resolved copy:
/// the result must not depend on how the driver split a message (VIRTIO 1.3 §2.7.4.1 "Message Framing"), on
/// direct or indirect descriptors, on the memory implementation, or on which region each buffer is in.
/// </summary>
public class DescriptorChainCopyTests
{
    private static readonly byte[] Request = { 0x04, 0x00, 0x2A, 0x00, 0x01, 0x02, 0x03, 0x04 };

    public static TheoryData<string> Memories => new() { "regions", "generic" };

    [Theory]
    [MemberData(nameof(Memories))]
    [Trait("Spec", "G1")]
    public void CopyFromReadable_OneBuffer_AnySplit_AndIndirect_GiveTheSameBytes(string memory)
    {
        ulong expected = BinaryPrimitives.ReadUInt64LittleEndian(Request);
        foreach (int split in new[] { 8, 1, 3, 7 })
        {
            var ring = CreateRing(memory);
            SplitQueue queue = ring.CreateQueue(indirect: true);
            ulong a = ring.AllocWith(Request.AsSpan(0, split));
            ulong response = ring.Alloc(2);
            ushort head = split == 8
                ? ring.AddChain((a, 8, false), (response, 2, true))
                : ring.AddChain((a, (uint)split, false), (ring.AllocWith(Request.AsSpan(split)), (uint)(8 - split), false), (response, 2, true));
            ring.Publish(head);
            Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error), error.ToString());
            Assert.True(chain.TryCopyFromReadable(out ulong wire), $"split {split}");
            Assert.Equal(expected, BitConverter.IsLittleEndian ? wire : BinaryPrimitives.ReverseEndianness(wire));
            Assert.Equal(VirtqueueError.None, queue.AddUsed(chain.HeadIndex, 0));
        }

        var indirectRing = CreateRing(memory);
        SplitQueue indirectQueue = indirectRing.CreateQueue(indirect: true);
        ulong table = indirectRing.AddIndirectTable(
            (indirectRing.AllocWith(Request.AsSpan(0, 5)), 5, DescriptorFlags.Next, 1),
            (indirectRing.AllocWith(Request.AsSpan(5)), 3, DescriptorFlags.Next, 2),
            (indirectRing.Alloc(2), 2, DescriptorFlags.Write, 0));
        indirectRing.WriteDescriptor(0, table, 48, DescriptorFlags.Indirect);
        indirectRing.Publish(0);
        Assert.True(indirectQueue.TryPopAvailable(out DescriptorChain indirect, out _));
        Assert.True(indirect.TryCopyFromReadable(out ulong indirectWire));
        Assert.Equal(expected, BitConverter.IsLittleEndian ? indirectWire : BinaryPrimitives.ReverseEndianness(indirectWire));
    }

    [Theory]
    [MemberData(nameof(Memories))]
    [Trait("Spec", "R2")]
    public void CopyFromReadable_TooFewReadableBytes_IsFalse_AndDefault(string memory)
    {
        var ring = CreateRing(memory);
        SplitQueue queue = ring.CreateQueue();
        ring.Publish(ring.AddChain((ring.AllocWith(Request.AsSpan(0, 4)), 4, false), (ring.AllocWith(Request.AsSpan(4, 3)), 3, false), (ring.Alloc(2), 2, true)));
        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
        Assert.False(chain.TryCopyFromReadable(out ulong wire));
        Assert.Equal(0UL, wire);
        Assert.True(chain.TryCopyFromReadable(out uint first4)); // a shorter header still fits
        Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(Request), BitConverter.IsLittleEndian ? first4 : BinaryPrimitives.ReverseEndianness(first4));
    }

    [Theory]
    [MemberData(nameof(Memories))]
    [Trait("Spec", "G2")]
    public void CopyToWritable_WholeOrSplit_WritesOnlyWritableBytes(string memory)
    {
        foreach (bool split in new[] { false, true })
        {
            var ring = CreateRing(memory);
            SplitQueue queue = ring.CreateQueue();
            ulong request = ring.AllocWith(Request);
            ulong w1 = ring.Alloc(split ? 1 : 2);
            ulong w2 = ring.Alloc(1);
            ring.Bytes(w1, split ? 1 : 2).Fill(0xEE);
            ring.Bytes(w2, 1).Fill(0xEE);
            ushort head = split ? ring.AddChain((request, 8, false), (w1, 1, true), (w2, 1, true)) : ring.AddChain((request, 8, false), (w1, 2, true));
            ring.Publish(head);
            Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));

            ushort response = BitConverter.IsLittleEndian ? (ushort)0x0100 : (ushort)0x0001; // status 0, value 1 in memory order
            Assert.True(chain.TryCopyToWritable(response));
            Assert.Equal(Request, ring.Bytes(request, 8).ToArray());
            if (split)
            {
                Assert.Equal(new byte[] { 0, 1 }, new[] { ring.Bytes(w1, 1)[0], ring.Bytes(w2, 1)[0] });
            }
            else
            {
                Assert.Equal(new byte[] { 0, 1 }, ring.Bytes(w1, 2).ToArray());
                Assert.Equal(0xEE, ring.Bytes(w2, 1)[0]); // the next allocation is untouched
            }
        }
    }

    [Theory]
    [MemberData(nameof(Memories))]
    [Trait("Spec", "G4")]
    public void CopyToWritable_TooSmall_WritesNothing(string memory)
    {
        var ring = CreateRing(memory);
        SplitQueue queue = ring.CreateQueue();
        ulong w = ring.Alloc(1);
        ring.Bytes(w, 1)[0] = 0xEE;
        ring.Publish(ring.AddChain((ring.AllocWith(Request), 8, false), (w, 1, true)));
        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
        Assert.False(chain.TryCopyToWritable((ushort)0x0101));
        Assert.Equal(0xEE, ring.Bytes(w, 1)[0]);
        Assert.False(chain.TryCopyToWritable(0x01020304U));
    }

    [Fact]
    [Trait("Spec", "GV9")]
    public void BuffersInDifferentRegions_AreEachReachedInTheirOwnRegion()
    {
        // Three regions with gaps: the ring and requests in RAM, responses in a second region, more requests in a third.
        // Chains alternate between regions, so the queue's cached buffer region keeps changing (and a chain whose
        // buffers span two regions must not be resolved against only one of them).
        var ring = new RingFixture(16);
        byte[] second = new byte[0x1000];
        byte[] third = new byte[0x1000];
        const ulong SecondBase = 0x4000_0000;
        const ulong ThirdBase = 0x8000_0000;
        ring.Memory = new RegionGuestMemory(new[]
        {
            new GuestMemoryRegion(new GuestAddress(0), ring.Ram),
            new GuestMemoryRegion(new GuestAddress(SecondBase), second),
            new GuestMemoryRegion(new GuestAddress(ThirdBase), third),
        });
        SplitQueue queue = ring.CreateQueue();

        ulong ramRequest = ring.AllocWith(Request);
        Request.CopyTo(third, 0x100);
        var chains = new (ulong Request, ulong Response)[]
        {
            (ramRequest, SecondBase + 0x10),          // readable in RAM, writable in the second region
            (ThirdBase + 0x100, ThirdBase + 0x200),   // both in the third region
            (ramRequest, ring.Alloc(2)),              // both in RAM
            (ThirdBase + 0x100, SecondBase + 0x20),   // third, then second
        };
        foreach ((ulong request, ulong response) in chains)
        {
            ring.Publish(ring.AddChain((request, 8, false), (response, 2, true)));
        }

        ushort value = 0x5A00;
        byte[] bytes = new byte[8];
        foreach ((ulong request, ulong response) in chains)
        {
            Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error), error.ToString());
            Assert.True(chain.TryCopyFromReadable(out ulong wire));
            Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(Request), BitConverter.IsLittleEndian ? wire : BinaryPrimitives.ReverseEndianness(wire));
            DescriptorChainReader reader = chain.CreateReader();
            Assert.True(reader.TryReadExactly(bytes));
            Assert.Equal(Request, bytes);
            value++;
            Assert.True(chain.TryCopyToWritable(value));
            Assert.Equal(VirtqueueError.None, queue.AddUsed(chain.HeadIndex, 2));
            Assert.Equal(value, MemoryMarshal.Read<ushort>(ReadBack(ring, second, third, response, SecondBase, ThirdBase)));
        }

        Assert.Equal(0, queue.InvalidChainCount);
    }

    [Fact]
    [Trait("Spec", "G2")]
    public void CachedReadOnlyRegion_StillRefusesAWritableBuffer()
    {
        // The first chain's readable buffer puts a read-only region in the cache; a later writable buffer in that
        // same region must still be refused (the cached region keeps its access check).
        var ring = new RingFixture(16);
        byte[] rom = new byte[0x1000];
        Request.CopyTo(rom, 0);
        const ulong RomBase = 0x4000_0000;
        ring.Memory = new RegionGuestMemory(new[] { new GuestMemoryRegion(new GuestAddress(0), ring.Ram), new GuestMemoryRegion(new GuestAddress(RomBase), rom, GuestMemoryAccess.Read) });
        SplitQueue queue = ring.CreateQueue();
        ushort good = ring.AddChain((RomBase, 8, false), (ring.Alloc(2), 2, true));
        ushort bad = ring.AddChain((RomBase, 8, false), (RomBase + 0x20, 2, true));
        ring.Publish(good, bad);

        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
        Assert.Equal(good, chain.HeadIndex);
        Assert.True(chain.TryCopyToWritable((ushort)0x0100));
        Assert.Equal(VirtqueueError.None, queue.AddUsed(chain.HeadIndex, 2));
        Assert.False(queue.TryPopAvailable(out _, out VirtqueueError error));
        Assert.Equal(VirtqueueError.None, error);
        Assert.Equal(VirtqueueError.GuestMemoryUnavailable, queue.LastChainError);
        Assert.Equal(new byte[] { 0, 0 }, rom.AsSpan(0x20, 2).ToArray());
    }

    [Fact]
    public unsafe void PointerBackedRegion_RingsAndBuffers_WorkLikeArrays()
    {
        // The vhost-user case: guest memory is host memory behind a pointer (an mmap'd memfd there).
        const int Length = 0x10000;
        byte* native = (byte*)NativeMemory.AllocZeroed(Length);
        try
        {
            var memory = new RegionGuestMemory(GuestMemoryRegion.FromHostPointer(new GuestAddress(0x1_0000_0000), (nint)native, Length));
            var queue = new SplitQueue(8) { Memory = memory };
            Assert.True(queue.TrySetSize(8));
            Assert.True(queue.TrySetAddresses(new GuestAddress(0x1_0000_0000), new GuestAddress(0x1_0000_1000), new GuestAddress(0x1_0000_2000)));
            Assert.Equal(VirtqueueError.None, queue.TryActivate());
            var ram = new Span<byte>(native, Length);
            Request.CopyTo(ram.Slice(0x3000));
            RingFixture.WriteDescriptor(ram, 0, 0, 0x1_0000_3000, 8, DescriptorFlags.Next, 1);
            RingFixture.WriteDescriptor(ram, 0, 1, 0x1_0000_3010, 2, DescriptorFlags.Write, 0);
            BinaryPrimitives.WriteUInt16LittleEndian(ram.Slice(0x1004), 0); // ring[0] = head 0
            BinaryPrimitives.WriteUInt16LittleEndian(ram.Slice(0x1002), 1); // avail.idx = 1

            Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error), error.ToString());
            Assert.True(chain.TryCopyFromReadable(out ulong wire));
            Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(Request), BitConverter.IsLittleEndian ? wire : BinaryPrimitives.ReverseEndianness(wire));
            Assert.True(chain.TryCopyToWritable((ushort)0x0100));
            Assert.Equal(VirtqueueError.None, queue.AddUsed(chain.HeadIndex, 2));
            Assert.Equal(new byte[] { 0, 1 }, ram.Slice(0x3010, 2).ToArray());
            Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(ram.Slice(0x2002)));              // used.idx
            Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(ram.Slice(0x2004)));             // used[0].id
            Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(ram.Slice(0x2008)));             // used[0].len
        }
        finally
        {
            NativeMemory.Free(native);
        }
    }

    private static RingFixture CreateRing(string memory)
    {
        var ring = new RingFixture(16);
        if (memory == "generic")
        {
            ring.Memory = new CountingGuestMemory(ring.Regions);
        }

        return ring;
    }

    private static ReadOnlySpan<byte> ReadBack(RingFixture ring, byte[] second, byte[] third, ulong address, ulong secondBase, ulong thirdBase)
        => address >= thirdBase ? third.AsSpan((int)(address - thirdBase), 2)
            : address >= secondBase ? second.AsSpan((int)(address - secondBase), 2)
            : ring.Bytes(address, 2);
}
