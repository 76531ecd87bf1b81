// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Testing;

namespace VirtioGpio.Device.Tests.Testing;

public sealed class GuestBufferAllocatorTests
{
    [Fact]
    public void BlocksAreAlignedDistinctAndInsideTheArea()
    {
        var allocator = new GuestBufferAllocator(new GuestRange(0x1003, 0x1000));
        GuestRange a = allocator.Allocate(3);
        GuestRange b = allocator.Allocate(0);
        GuestRange c = allocator.Allocate(17);

        Assert.Equal(0x1010ul, a.Start.Value);
        Assert.Equal(3ul, a.Length);
        Assert.Equal(0x1020ul, b.Start.Value);
        Assert.Equal(0x1030ul, c.Start.Value);
        Assert.All(new[] { a, b, c }, r => Assert.True(r.Start.IsAligned(16)));
    }

    [Fact]
    public void FreedBlocksMergeSoTheWholeAreaCanBeAllocatedAgain()
    {
        var allocator = new GuestBufferAllocator(new GuestRange(0, 0x100));
        GuestRange[] blocks = Enumerable.Range(0, 16).Select(_ => allocator.Allocate(16)).ToArray();
        Assert.False(allocator.TryAllocate(1, out _));
        foreach (int i in new[] { 3, 1, 2, 0, 15, 8, 9, 4, 5, 6, 7, 10, 12, 11, 14, 13 })
        {
            allocator.Free(blocks[i]);
        }

        Assert.Equal(0x100ul, allocator.FreeBytes);
        Assert.Equal(0ul, allocator.Allocate(0x100).Start.Value);
    }

    [Fact]
    public void DoubleFreeAndExhaustionThrow()
    {
        var allocator = new GuestBufferAllocator(new GuestRange(0, 0x40));
        GuestRange block = allocator.Allocate(16);
        allocator.Free(block);
        Assert.Throws<InvalidOperationException>(() => allocator.Free(block));
        Assert.Throws<InvalidOperationException>(() => allocator.Allocate(0x41));
    }
}
