// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Testing;

/// <summary>Checks the kit's own ring layout by decoding guest memory independently (no engine involved).</summary>
public sealed class SimulatedVirtioDriverTests
{
    private static readonly byte[] Request = [0x04, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00];

    private readonly TestGuestMemory _memory = new(1 << 20);

    // Decodes a 16-byte descriptor with BinaryPrimitives, independently of Descriptor.TryRead.
    private (ulong Addr, uint Len, ushort Flags, ushort Next) RawDescriptor(ulong address)
    {
        byte[] raw = _memory.ReadBytes(new GuestAddress(address), 16);
        return (BinaryPrimitives.ReadUInt64LittleEndian(raw), BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(8)),
            BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(12)), BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(14)));
    }

    // Plays the device by hand: used.ring[usedIdx % N] = {id, len}; used.idx = usedIdx + 1.
    private void CompleteByHand(SplitRingLayout layout, ushort usedIndex, uint id, uint len)
    {
        ulong entry = layout.UsedRing.Value + 4 + (8ul * (ulong)(usedIndex % layout.QueueSize));
        _memory.WriteUInt32(new GuestAddress(entry), id);
        _memory.WriteUInt32(new GuestAddress(entry + 4), len);
        _memory.WriteUInt16(new GuestAddress(layout.UsedRing.Value + 2), unchecked((ushort)(usedIndex + 1)));
    }

    [Fact]
    [Trait("Spec", "2.7.5")]
    public void DirectChainIsWrittenByteExactlyAndPublishedOnlyOnPublish()
    {
        var driver = new SimulatedVirtioDriver(_memory, SplitRingLayout.Workload(256));
        SubmittedChain chain = driver.AddChain([Request], [2]);

        Assert.Equal(0, chain.HeadIndex);
        Assert.Equal(new ushort[] { 0, 1 }, chain.DescriptorIndices);
        (ulong addr0, uint len0, ushort flags0, ushort next0) = RawDescriptor(0x0);
        (ulong addr1, uint len1, ushort flags1, ushort next1) = RawDescriptor(0x10);
        Assert.Equal((chain.Buffers[0].Address.Value, 8u, (ushort)1, (ushort)1), (addr0, len0, flags0, next0)); // NEXT
        Assert.Equal((chain.Buffers[1].Address.Value, 2u, (ushort)2), (addr1, len1, flags1));                   // WRITE, no NEXT
        Assert.Equal(2, next1); // Linux leaves the free-list link in the last descriptor's next
        Assert.Equal(Request, _memory.ReadBytes(chain.Buffers[0].Address, 8));
        Assert.Equal(0, _memory.ReadUInt16(new GuestAddress(0x1004)));  // avail.ring[0] = head 0
        Assert.Equal(0, _memory.ReadUInt16(new GuestAddress(0x1002)));  // not yet published
        Assert.Equal(1, driver.StagedCount);

        Assert.True(driver.Publish());
        Assert.Equal(1, _memory.ReadUInt16(new GuestAddress(0x1002)));
        Assert.Equal(0, _memory.ReadUInt16(new GuestAddress(0x1000)));  // avail.flags untouched
        Assert.Equal(254, driver.FreeDescriptorCount);
    }

    [Fact]
    [Trait("Spec", "2.7.5.3")]
    public void IndirectChainIsOneDescriptorPointingToATwoEntryTableLikeLinux()
    {
        var driver = new SimulatedVirtioDriver(_memory, SplitRingLayout.Workload(256));
        SubmittedChain chain = driver.AddChain([Request], [2], ChainShape.Indirect);

        Assert.Single(chain.DescriptorIndices);
        GuestRange table = Assert.NotNull(chain.IndirectTable);
        Assert.Equal(32ul, table.Length);
        Assert.True(table.Start.IsAligned(16));
        Assert.Equal((table.Start.Value, 32u, (ushort)4), (RawDescriptor(0x0).Addr, RawDescriptor(0x0).Len, RawDescriptor(0x0).Flags));
        Assert.Equal((chain.Buffers[0].Address.Value, 8u, (ushort)1, (ushort)1), RawDescriptor(table.Start.Value));
        Assert.Equal((chain.Buffers[1].Address.Value, 2u, (ushort)2, (ushort)2), RawDescriptor(table.Start.Value + 16));
        Assert.Equal(255, driver.FreeDescriptorCount);
    }

    [Fact]
    [Trait("Spec", "2.7.5.3.2")]
    public void DirectThenIndirectPutsTheIndirectDescriptorLast()
    {
        var driver = new SimulatedVirtioDriver(_memory, 8);
        SubmittedChain chain = driver.AddChain([Request.AsMemory(0, 3), Request.AsMemory(3)], [1, 1], ChainShape.DirectThenIndirect(2));

        Assert.Equal(new ushort[] { 0, 1, 2 }, chain.DescriptorIndices);
        Descriptor d0 = driver.ReadDescriptor(0);
        Descriptor d1 = driver.ReadDescriptor(1);
        Descriptor d2 = driver.ReadDescriptor(2);
        Assert.Equal((3u, DescriptorFlags.Next, (ushort)1), (d0.Length, d0.Flags, d0.Next));
        Assert.Equal((5u, DescriptorFlags.Next, (ushort)2), (d1.Length, d1.Flags, d1.Next));
        Assert.Equal((32u, DescriptorFlags.Indirect), (d2.Length, d2.Flags));
        Assert.Equal(chain.IndirectTable!.Value.Start, d2.Address);
        Descriptor t0 = driver.ReadDescriptorAt(d2.Address);
        Descriptor t1 = driver.ReadDescriptorAt(new GuestAddress(d2.Address.Value + 16));
        Assert.Equal((1u, DescriptorFlags.Next | DescriptorFlags.Write), (t0.Length, t0.Flags));
        Assert.Equal((1u, DescriptorFlags.Write), (t1.Length, t1.Flags));
        Assert.Equal(Request, driver.ReadBytes(d0.Address, 3).Concat(driver.ReadBytes(d1.Address, 5)));
        Assert.Equal(8u, chain.ReadableLength);
        Assert.Equal(2u, chain.WritableLength);
    }

    [Fact]
    public void CompletionSnapshotsWrittenBytesAndRecyclesDescriptorsLinuxOrder()
    {
        var driver = new SimulatedVirtioDriver(_memory, SplitRingLayout.Workload(4)) { WritableFillByte = 0xAA };
        SubmittedChain first = driver.AddChain([Request], [2]);
        SubmittedChain second = driver.AddChain([Request], [2]);
        driver.Publish();
        Assert.Equal(2, driver.AvailIndex);
        Assert.Equal(new byte[] { 0xAA, 0xAA }, _memory.ReadBytes(second.Buffers[1].Address, 2));

        _memory.WriteBytes(second.Buffers[1].Address, [0x00]);
        CompleteByHand(driver.Layout, 0, second.HeadIndex, 1);
        Assert.True(driver.TryTakeUsed(out DriverCompletion done));
        Assert.False(driver.TryTakeUsed(out _));

        Assert.Same(second, done.Chain);
        Assert.True(second.IsCompleted);
        Assert.False(first.IsCompleted);
        Assert.Equal(new byte[] { 0x00, 0xAA }, done.WritableBytes); // the byte the device skipped keeps the fill
        Assert.Equal(new byte[] { 0x00 }, done.Written.ToArray());
        Assert.False(done.LengthExceedsWritable);
        Assert.Equal(2, driver.FreeDescriptorCount);
        Assert.Equal(1, driver.OutstandingChainCount);

        // Linux detach_buf: the freed chain goes to the front of the free list.
        SubmittedChain third = driver.AddChain([Request], [2]);
        Assert.Equal(second.DescriptorIndices, third.DescriptorIndices);
    }

    [Fact]
    public void UnknownIdsAreReportedUntrackedAndOverrunsThrow()
    {
        var driver = new SimulatedVirtioDriver(_memory, SplitRingLayout.Workload(4));
        driver.AddChain([Request], [2]);
        driver.Publish();
        CompleteByHand(driver.Layout, 0, 3, 2);
        Assert.True(driver.TryTakeUsed(out DriverCompletion stray));
        Assert.False(stray.IsTracked);
        Assert.Equal(1, driver.OutstandingChainCount);

        _memory.WriteUInt16(driver.Layout.UsedIndexAddress, 9); // 8 ahead of a 4-entry ring
        Assert.Throws<InvalidOperationException>(() => driver.TryTakeUsed(out _));
    }

    [Fact]
    public void ReportedLengthBeyondTheWritableBuffersIsFlagged()
    {
        var driver = new SimulatedVirtioDriver(_memory, SplitRingLayout.Workload(4));
        SubmittedChain chain = driver.AddChain([Request], [2]);
        driver.Publish();
        CompleteByHand(driver.Layout, 0, chain.HeadIndex, 3);
        Assert.True(driver.TryTakeUsed(out DriverCompletion done));
        Assert.True(done.LengthExceedsWritable);
        Assert.Equal(2, done.Written.Length);
    }

    [Fact]
    public void BatchedPublishMovesAvailIndexOnceAndKeepsSlotOrder()
    {
        var driver = new SimulatedVirtioDriver(_memory, SplitRingLayout.Workload(8));
        SubmittedChain[] chains = Enumerable.Range(0, 3).Select(_ => driver.AddChain([Request], [2])).ToArray();
        Assert.Equal(0, driver.ReadAvailIndex());
        driver.Publish();
        Assert.Equal(3, driver.ReadAvailIndex());
        Assert.Equal(chains.Select(c => c.HeadIndex), Enumerable.Range(0, 3).Select(driver.ReadAvailEntry));
        Assert.Equal(new ushort[] { 0, 1, 2 }, chains.Select(c => c.AvailIndex));
    }

    [Fact]
    [Trait("Spec", "2.7.10")]
    public void PublishReportsWhetherTheDeviceWantsAKick()
    {
        var driver = new SimulatedVirtioDriver(_memory, SplitRingLayout.Workload(8));
        driver.AddChain([Request], [2]);
        Assert.True(driver.Publish());
        _memory.WriteUInt16(driver.Layout.UsedFlagsAddress, SimulatedVirtioDriver.UsedFlagNoNotify);
        driver.AddChain([Request], [2]);
        Assert.False(driver.Publish());

        // With EVENT_IDX the flag is ignored; avail_event decides (vring_need_event).
        driver.EventIdxEnabled = true;
        _memory.WriteUInt16(driver.Layout.AvailEventAddress, 2);   // "kick me when idx passes 2"
        driver.AddChain([Request], [2]);
        Assert.True(driver.Publish());                             // 2 -> 3 passes 2
        driver.AddChain([Request], [2]);
        Assert.False(driver.Publish());                            // 3 -> 4 does not
    }

    [Fact]
    public void EventIdxDriverFollowsTheUsedRingWithUsedEvent()
    {
        var driver = new SimulatedVirtioDriver(_memory, SplitRingLayout.Workload(4)) { EventIdxEnabled = true };
        SubmittedChain chain = driver.AddChain([Request], [2]);
        driver.Publish();
        CompleteByHand(driver.Layout, 0, chain.HeadIndex, 2);
        Assert.True(driver.TryTakeUsed(out _));
        Assert.Equal(1, driver.ReadUsedEvent());

        driver.SuppressInterrupts(true);
        Assert.Equal(SimulatedVirtioDriver.AvailFlagNoInterrupt, driver.ReadAvailFlags());
        chain = driver.AddChain([Request], [2]);
        driver.Publish();
        CompleteByHand(driver.Layout, 1, chain.HeadIndex, 2);
        Assert.True(driver.TryTakeUsed(out _));
        Assert.Equal(1, driver.ReadUsedEvent()); // callbacks disabled: used_event is left alone, like Linux
        driver.SetUsedEvent(0x1234);
        Assert.Equal(0x1234, _memory.ReadUInt16(driver.Layout.UsedEventAddress));
    }

    [Fact]
    // The kit builds what it is told: a 2-entry indirect table on a 1-entry ring is longer than the
    // queue size (a driver MUST NOT, VIRTIO 1.3 §2.7.5.3.1), which is exactly what a negative test needs.
    public void QueueOfOneCarriesIndirectChainsButNotTwoDirectDescriptors()
    {
        var driver = new SimulatedVirtioDriver(_memory, 1);
        Assert.Throws<InvalidOperationException>(() => driver.AddChain([Request], [2]));
        Assert.Equal(1, driver.FreeDescriptorCount);
        ulong freeBefore = driver.Allocator.FreeBytes;

        for (ushort i = 0; i < 3; i++)
        {
            SubmittedChain chain = driver.AddChain([Request], [2], ChainShape.Indirect);
            driver.Publish();
            Assert.Equal(0, chain.HeadIndex);
            CompleteByHand(driver.Layout, i, 0, 2);
            Assert.True(driver.TryTakeUsed(out _));
        }

        Assert.Equal(freeBefore, driver.Allocator.FreeBytes); // buffers and tables were returned
    }

    [Fact]
    public void MaximumQueueSizeWorks()
    {
        var memory = new TestGuestMemory(4 << 20);
        var driver = new SimulatedVirtioDriver(memory, 32768);
        Assert.Equal(32768, driver.FreeDescriptorCount);
        SubmittedChain chain = driver.AddChain([Request], [2]);
        driver.Publish();
        Assert.Equal(1, memory.ReadUInt16(driver.Layout.AvailIndexAddress));
        Assert.Equal(chain.HeadIndex, memory.ReadUInt16(driver.Layout.AvailEntryAddress(0)));
    }

    [Fact]
    public void IndicesWrapAt65536()
    {
        var driver = new SimulatedVirtioDriver(_memory, 2);
        for (int i = 0; i < 65540; i++)
        {
            SubmittedChain chain = driver.AddChain([Request], [2], ChainShape.Indirect);
            driver.Publish();
            Assert.Equal(chain.HeadIndex, driver.ReadAvailEntry(i % 2));
            CompleteByHand(driver.Layout, unchecked((ushort)i), chain.HeadIndex, 2);
            Assert.True(driver.TryTakeUsed(out DriverCompletion done));
            Assert.Same(chain, done.Chain);
        }

        Assert.Equal((ushort)(65540 % 65536), driver.AvailIndex);
        Assert.Equal((ushort)(65540 % 65536), driver.LastUsedIndex);
    }

    [Fact]
    public void RawMethodsWriteMalformedStructuresVerbatim()
    {
        var driver = new SimulatedVirtioDriver(_memory, SplitRingLayout.Workload(4));
        ushort[] reserved = driver.AllocateDescriptorIndices(2);
        Assert.Equal(new ushort[] { 0, 1 }, reserved);

        driver.WriteDescriptor(0, 0x5000, 8, DescriptorFlags.Next, 0);                      // loop onto itself
        driver.WriteDescriptor(1, 0x5000, 8, DescriptorFlags.Next | DescriptorFlags.Indirect | (DescriptorFlags)0x80, 7); // bad next, undefined flag
        GuestRange nested = driver.WriteIndirectTable([new Descriptor(new GuestAddress(0x6000), 16, DescriptorFlags.Indirect, 0)]);
        driver.StageAvailEntry(0);
        driver.StageAvailEntry(9);                                                           // head >= N
        driver.Publish();

        Assert.Equal((0x5000ul, 8u, (ushort)1, (ushort)0), RawDescriptor(0));
        Assert.Equal((ushort)0x85, RawDescriptor(16).Flags);
        Assert.Equal((ushort)7, RawDescriptor(16).Next);
        Assert.Equal((ushort)4, RawDescriptor(nested.Start.Value).Flags);
        Assert.Equal(new ushort[] { 0, 9 }, new[] { driver.ReadAvailEntry(0), driver.ReadAvailEntry(1) });
        Assert.Equal(2, driver.ReadAvailIndex());

        driver.WriteAvailIndex(2 + 8);                                                       // jump 2·N ahead
        Assert.Equal(10, _memory.ReadUInt16(new GuestAddress(0x1002)));
        Assert.Equal(10, driver.AvailIndex);

        // Raw heads are not tracked: completing them yields untracked elements.
        CompleteByHand(driver.Layout, 0, 0, 0);
        Assert.True(driver.TryTakeUsed(out DriverCompletion raw));
        Assert.False(raw.IsTracked);
        driver.FreeDescriptorIndices(reserved);
        Assert.Equal(4, driver.FreeDescriptorCount);
    }

    [Fact]
    public void ResetRingsZeroesTheRingsAndFreesEverything()
    {
        var driver = new SimulatedVirtioDriver(_memory, SplitRingLayout.Workload(4));
        ulong freeBytes = driver.Allocator.FreeBytes;
        driver.AddChain([Request], [2]);
        driver.Publish();
        driver.ResetRings();

        Assert.Equal(4, driver.FreeDescriptorCount);
        Assert.Equal(freeBytes, driver.Allocator.FreeBytes);
        Assert.Equal(0, driver.ReadAvailIndex());
        Assert.All(_memory.ReadBytes(new GuestAddress(0), 64), b => Assert.Equal(0, b));
    }

    [Fact]
    public void DeviceWritableRangesAreTheUsedRingAndOutstandingResponseBuffers()
    {
        var driver = new SimulatedVirtioDriver(_memory, SplitRingLayout.Workload(4));
        SubmittedChain chain = driver.AddChain([Request], [2]);
        Assert.Equal(new[] { driver.Layout.UsedRingRange, chain.WritableRanges[0] }, driver.GetDeviceWritableRanges());
    }
}
