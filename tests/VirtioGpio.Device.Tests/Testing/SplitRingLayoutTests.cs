// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;

namespace VirtioGpio.Device.Tests.Testing;

public sealed class SplitRingLayoutTests
{
    public static TheoryData<int> AllQueueSizes()
    {
        var data = new TheoryData<int>();
        for (int size = 1; size <= 32768; size <<= 1)
        {
            data.Add(size);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllQueueSizes))]
    [Trait("Spec", "2.7")]
    public void CompactLayoutHasSpecSizesAlignmentsAndNoOverlap(int size)
    {
        SplitRingLayout layout = SplitRingLayout.Compact(size, new GuestAddress(0x10000));

        Assert.Equal(16ul * (ulong)size, layout.DescriptorTableSize);
        Assert.Equal(6ul + (2ul * (ulong)size), layout.AvailRingSize);
        Assert.Equal(6ul + (8ul * (ulong)size), layout.UsedRingSize);
        Assert.True(layout.DescriptorTable.IsAligned(16));
        Assert.True(layout.AvailRing.IsAligned(2));
        Assert.True(layout.UsedRing.IsAligned(4));
        Assert.True(layout.DescriptorTableRange.EndExclusive <= layout.AvailRing.Value);
        Assert.True(layout.AvailRingRange.EndExclusive <= layout.UsedRing.Value);
        Assert.Equal(layout.AvailRing.Value + 4 + (2ul * (ulong)size), layout.UsedEventAddress.Value);
        Assert.Equal(layout.UsedRing.Value + 4 + (8ul * (ulong)size), layout.AvailEventAddress.Value);
        Assert.Equal(layout.UsedRingRange.EndExclusive, layout.AvailEventAddress.Value + 2);
    }

    [Fact]
    public void WorkloadLayoutMatchesWorkloadMd()
    {
        SplitRingLayout layout = SplitRingLayout.Workload();
        Assert.Equal(256, layout.QueueSize);
        Assert.Equal(0x0ul, layout.DescriptorTable.Value);
        Assert.Equal(0x1000ul, layout.AvailRing.Value);
        Assert.Equal(0x2000ul, layout.UsedRing.Value);
        Assert.Throws<ArgumentOutOfRangeException>(() => SplitRingLayout.Workload(512));
    }

    [Fact]
    public void LegacyLayoutPutsTheUsedRingOnTheNextAlignmentBoundary()
    {
        SplitRingLayout layout = SplitRingLayout.Legacy(256, new GuestAddress(0));
        Assert.Equal(0x1000ul, layout.AvailRing.Value);
        Assert.Equal(0x2000ul, layout.UsedRing.Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(65536)]
    [InlineData(-1)]
    public void InvalidQueueSizesAreRejected(int size) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SplitRingLayout.Compact(size, default));
}
