// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Virtqueues;

public class DescriptorChainReaderWriterTests
{
    [Fact]
    public void TryReadExactly_MoreThanRemains_ReadsNothingAndKeepsThePosition()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        ulong a = ring.AllocWith(new byte[] { 1, 2, 3 });
        ulong b = ring.AllocWith(new byte[] { 4, 5 });
        ring.Publish(ring.AddChain((a, 3, false), (b, 2, false), (ring.Alloc(4), 4, true)));
        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));

        DescriptorChainReader reader = chain.CreateReader();
        Assert.Equal(5u, reader.Remaining);
        Assert.False(reader.TryReadExactly(new byte[6]));
        Assert.Equal(5u, reader.Remaining);

        byte[] two = new byte[2];
        Assert.True(reader.TryReadExactly(two));
        Assert.Equal(new byte[] { 1, 2 }, two);
        byte[] rest = new byte[8];
        Assert.Equal(3, reader.Read(rest));
        Assert.Equal(new byte[] { 3, 4, 5 }, rest.AsSpan(0, 3).ToArray());
        Assert.Equal(0u, reader.Remaining);
        Assert.Equal(0, reader.Read(rest));
    }

    [Fact]
    public void Skip_MovesAcrossDescriptors()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        ulong a = ring.AllocWith(new byte[] { 1, 2, 3 });
        ulong b = ring.AllocWith(new byte[] { 4, 5 });
        ring.Publish(ring.AddChain((a, 3, false), (b, 2, false)));
        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
        DescriptorChainReader reader = chain.CreateReader();
        Assert.Equal(4u, reader.Skip(4));
        byte[] one = new byte[1];
        Assert.True(reader.TryReadExactly(one));
        Assert.Equal(5, one[0]);
        Assert.Equal(0u, reader.Skip(10));
    }

    [Fact]
    [Trait("Spec", "G2")]
    public void Writer_NeverTouchesReadableBuffers_AndTruncatesAtTheEnd()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        ulong readable = ring.AllocWith(new byte[] { 0x11, 0x11, 0x11, 0x11 });
        ulong w1 = ring.Alloc(2);
        ulong w2 = ring.Alloc(1);
        ring.Publish(ring.AddChain((readable, 4, false), (w1, 2, true), (w2, 1, true)));
        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));

        DescriptorChainWriter writer = chain.CreateWriter();
        Assert.Equal(3u, writer.Remaining);
        Assert.False(writer.TryWriteExactly(new byte[] { 9, 9, 9, 9 }));
        Assert.Equal(0u, writer.BytesWritten);
        Assert.Equal(3, writer.Write(new byte[] { 1, 2, 3, 4, 5 }));
        Assert.Equal(3u, writer.BytesWritten);
        Assert.Equal(0u, writer.Remaining);
        Assert.Equal(0, writer.Write(new byte[] { 6 }));

        Assert.Equal(new byte[] { 0x11, 0x11, 0x11, 0x11 }, ring.Bytes(readable, 4).ToArray());
        Assert.Equal(new byte[] { 1, 2 }, ring.Bytes(w1, 2).ToArray());
        Assert.Equal(3, ring.Ram[w2]);
    }

    [Fact]
    public void ChainWithoutWritableBuffers_HasAnEmptyWriter()
    {
        var ring = new RingFixture(8);
        SplitQueue queue = ring.CreateQueue();
        ring.Publish(ring.AddChain((ring.Alloc(8), 8, false)));
        Assert.True(queue.TryPopAvailable(out DescriptorChain chain, out _));
        DescriptorChainWriter writer = chain.CreateWriter();
        Assert.Equal(0u, writer.Remaining);
        Assert.False(writer.TryWriteExactly(new byte[] { 1 }));
        Assert.True(writer.TryWriteExactly(ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void DefaultChain_HasEmptyReaderAndWriter()
    {
        DescriptorChain chain = default;
        DescriptorChainReader reader = chain.CreateReader();
        DescriptorChainWriter writer = chain.CreateWriter();
        Assert.Equal(0u, reader.Remaining);
        Assert.False(reader.TryReadExactly(new byte[1]));
        Assert.Equal(0, writer.Write(new byte[1]));
    }
}
