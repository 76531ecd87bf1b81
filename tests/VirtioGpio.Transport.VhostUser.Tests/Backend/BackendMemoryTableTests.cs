// SPDX-License-Identifier: MIT
using VirtioGpio.Transport.VhostUser.Interop;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

/// <summary>SET_MEM_TABLE / ADD_MEM_REG / REM_MEM_REG (VHOST-USER.md §8; VU11) with real memfds; fds are counted.</summary>
[Collection(FdAccountingCollection.Name)]
public sealed class BackendMemoryTableTests
{
    private static void AssertRejectedAndNoFdLeak(BackendHarness harness, byte[] payload, int[] fds, FrontendRequest request = FrontendRequest.SetMemTable)
    {
        harness.Sync();
        int baseline = FileDescriptors.CountOpen();
        Assert.NotEqual(0UL, harness.Frontend.Ack(request, payload, fds));
        Assert.Equal(baseline, FileDescriptors.CountOpen());
    }

    [Fact]
    [Trait("Spec", "VU11")]
    public void FdCountNotMatchingRegionCountIsRejected()
    {
        using var harness = new BackendHarness();
        using var a = new GuestRam(0x10000, 0);
        using var b = new GuestRam(0x10000, 0x10000);
        harness.Frontend.Negotiate();
        AssertRejectedAndNoFdLeak(harness, GuestRam.MemTable(a.Region, b.Region), new[] { a.Fd });
        AssertRejectedAndNoFdLeak(harness, GuestRam.MemTable(a.Region), new[] { a.Fd, b.Fd });
        AssertRejectedAndNoFdLeak(harness, GuestRam.MemTable(), Array.Empty<int>());
    }

    [Fact]
    [Trait("Spec", "VU11")]
    public void OverlappingRegionsAreRejected()
    {
        using var harness = new BackendHarness();
        using var a = new GuestRam(0x10000, 0);
        using var b = new GuestRam(0x10000, 0x8000);
        harness.Frontend.Negotiate();
        AssertRejectedAndNoFdLeak(harness, GuestRam.MemTable(a.Region, b.Region), new[] { a.Fd, b.Fd });

        // Same user range, distinct guest ranges: also an overlap.
        var aliased = new VhostUserMemoryRegionInfo(0x100000, 0x10000, a.Region.UserAddress, 0);
        AssertRejectedAndNoFdLeak(harness, GuestRam.MemTable(a.Region, aliased), new[] { a.Fd, a.Fd });
    }

    [Theory]
    [Trait("Spec", "VU11")]
    [InlineData(0xFFFFFFFFFFFFF000ul, 0x10000ul, 0ul, 0ul)] // gpa + size overflows
    [InlineData(0ul, 0x10000ul, 0xFFFFFFFFFFFFFFFFul, 0ul)] // user + size overflows
    [InlineData(0ul, 0x10000ul, 0x1000ul, 0xFFFFFFFFFFFFF000ul)] // offset + size overflows
    [InlineData(0ul, 0ul, 0x1000ul, 0ul)] // empty
    [InlineData(0ul, 0x20000ul, 0x1000ul, 0ul)] // file (64 KiB) smaller than offset + size
    [InlineData(0ul, 0x10000ul, 0x1000ul, 0x1000ul)] // file smaller than offset + size
    public void InvalidRegionIsRejected(ulong gpa, ulong size, ulong user, ulong offset)
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam(0x10000, 0);
        harness.Frontend.Negotiate();
        AssertRejectedAndNoFdLeak(harness, GuestRam.MemTable(new VhostUserMemoryRegionInfo(gpa, size, user, offset)), new[] { ram.Fd });
    }

    [Fact]
    [Trait("Spec", "VU11")]
    public void ValidTableKeepsNoFdAndAcceptsTheMmioLayout()
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam(0x200000, 0);
        harness.Frontend.Negotiate();
        harness.Sync();
        int baseline = FileDescriptors.CountOpen();

        // QEMU microvm/MMIO: two regions on one memfd, the second at offset 0x100000 (VHOST-USER.md §12.1, §8.3).
        var first = new VhostUserMemoryRegionInfo(0, 0xF0000, ram.UserAddress(0), 0);
        var second = new VhostUserMemoryRegionInfo(0x100000, 0x100000, ram.UserAddress(0x100000), 0x100000);
        Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetMemTable, GuestRam.MemTable(first, second), new[] { ram.Fd, ram.Fd }));
        Assert.Equal(baseline, FileDescriptors.CountOpen()); // mapped, fds closed

        // A ring in the second region translates through user_addr → GPA and runs.
        var ring = new TestRing(ram, 0, 256, 0x101000);
        int kick = EventFd.Create();
        int call = EventFd.Create();
        try
        {
            harness.Frontend.Send(FrontendRequest.SetFeatures, TestFrontend.U64(harness.Frontend.Get(FrontendRequest.GetFeatures)));
            harness.StartRing(ring, kick, call);
            Assert.Equal(0x101000UL, harness.Device.GetQueue(0).DescriptorTableAddress.Value);
            ring.Submit(TestRing.GetValueRequest(0), 2);
            EventFd.Signal(kick);
            Assert.True(ring.WaitUsed(1));
        }
        finally
        {
            FileDescriptors.Close(kick);
            FileDescriptors.Close(call);
        }
    }

    [Fact]
    public void AddAndRemoveRegions()
    {
        using var harness = new BackendHarness(options: new VhostUserBackendOptions { MaxMemorySlots = 8 });
        using var a = new GuestRam(0x10000, 0);
        using var b = new GuestRam(0x10000, 0x10000);
        harness.Frontend.Negotiate();
        harness.Sync();
        int baseline = FileDescriptors.CountOpen();
        Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.AddMemReg, GuestRam.SingleRegion(a.Region), new[] { a.Fd }));
        Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.AddMemReg, GuestRam.SingleRegion(b.Region), new[] { b.Fd }));
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.AddMemReg, GuestRam.SingleRegion(a.Region), new[] { a.Fd })); // overlap
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.AddMemReg, GuestRam.SingleRegion(new VhostUserMemoryRegionInfo(0x40000, 0x1000, 0x1000, 0)))); // no fd

        // REM_MEM_REG "MAY" carry an fd, which is closed unused.
        Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.RemMemReg, GuestRam.SingleRegion(a.Region with { MmapOffset = 0x1234 }), new[] { a.Fd }));
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.RemMemReg, GuestRam.SingleRegion(a.Region)));
        Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.RemMemReg, GuestRam.SingleRegion(b.Region)));
        Assert.Equal(baseline, FileDescriptors.CountOpen());
    }

    [Fact]
    public void RingStopsWhenItsRegionIsRemoved()
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam();
        var ring = new TestRing(ram, 0, 256, 0x1000);
        int kick = EventFd.Create();
        int call = EventFd.Create();
        try
        {
            harness.Handshake();
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.AddMemReg, GuestRam.SingleRegion(ram.Region), new[] { ram.Fd }));
            harness.StartRing(ring, kick, call);
            Assert.True(harness.Device.GetQueue(0).IsReady);
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.RemMemReg, GuestRam.SingleRegion(ram.Region)));
            Assert.False(harness.Device.GetQueue(0).IsReady);
            ring.Submit(TestRing.GetValueRequest(0), 2);
            EventFd.Signal(kick);
            harness.Sync();
            Assert.Equal(0, ring.UsedIdx);

            // Re-adding the memory restarts the ring, which then serves the pending request.
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.AddMemReg, GuestRam.SingleRegion(ram.Region), new[] { ram.Fd }));
            Assert.True(ring.WaitUsed(1));
        }
        finally
        {
            FileDescriptors.Close(kick);
            FileDescriptors.Close(call);
        }
    }
}
