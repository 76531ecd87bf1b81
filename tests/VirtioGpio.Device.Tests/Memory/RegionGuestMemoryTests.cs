// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Tests.Memory;

public class RegionGuestMemoryTests
{
    private static RegionGuestMemory TwoAdjacentAndOneDistant(out byte[] a, out byte[] b, out byte[] c)
    {
        a = new byte[0x1000];
        b = new byte[0x1000];
        c = new byte[0x1000];
        return new RegionGuestMemory(new[]
        {
            new GuestMemoryRegion(new GuestAddress(0x10000), c), // out of order on purpose
            new GuestMemoryRegion(new GuestAddress(0x0), a),
            new GuestMemoryRegion(new GuestAddress(0x1000), b),
        });
    }

    [Fact]
    public void Constructor_SortsRegions()
    {
        RegionGuestMemory memory = TwoAdjacentAndOneDistant(out _, out _, out _);
        Assert.Equal(new ulong[] { 0x0, 0x1000, 0x10000 }, memory.Regions.Select(r => r.Start.Value).ToArray());
    }

    [Fact]
    public void Constructor_RejectsOverlappingRegions()
        => Assert.Throws<ArgumentException>(() => new RegionGuestMemory(new[]
        {
            new GuestMemoryRegion(new GuestAddress(0), new byte[0x1000]),
            new GuestMemoryRegion(new GuestAddress(0xFFF), new byte[0x10]),
        }));

    [Fact]
    public void Constructor_RejectsEmptyOrNull()
    {
        Assert.Throws<ArgumentException>(() => new RegionGuestMemory(Array.Empty<GuestMemoryRegion>()));
        Assert.Throws<ArgumentNullException>(() => new RegionGuestMemory((IEnumerable<GuestMemoryRegion>)null!));
        Assert.Throws<ArgumentNullException>(() => new RegionGuestMemory(new GuestMemoryRegion[] { null! }));
    }

    [Fact]
    public void Region_RejectsEmptyAndWrappingRanges()
    {
        Assert.Throws<ArgumentException>(() => new GuestMemoryRegion(new GuestAddress(0), Array.Empty<byte>()));
        Assert.Throws<ArgumentException>(() => new GuestMemoryRegion(new GuestAddress(ulong.MaxValue - 2), new byte[8]));
        Assert.Throws<ArgumentException>(() => GuestMemoryRegion.FromHostPointer(new GuestAddress(0), 0, 16));
        Assert.Throws<ArgumentException>(() => GuestMemoryRegion.FromHostPointer(new GuestAddress(0), 16, 0));
    }

    [Fact]
    public void Region_AtTheTopOfTheAddressSpace_IsUsable()
    {
        var memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(ulong.MaxValue - 15), new byte[16]));
        Assert.Equal(GuestMemoryError.None, memory.TryWrite(new GuestAddress(ulong.MaxValue - 1), new byte[] { 1, 2 }));
        Assert.Equal(GuestMemoryError.AddressOverflow, memory.TryGetSpan(new GuestAddress(ulong.MaxValue - 1), 4, GuestMemoryAccess.Read, out _));
    }

    [Fact]
    public void TryGetSpan_InsideOneRegion_ReturnsTheHostBytes()
    {
        RegionGuestMemory memory = TwoAdjacentAndOneDistant(out _, out byte[] b, out _);
        b[0x10] = 42;
        Assert.Equal(GuestMemoryError.None, memory.TryGetSpan(new GuestAddress(0x1010), 4, GuestMemoryAccess.ReadWrite, out Span<byte> span));
        Assert.Equal(4, span.Length);
        Assert.Equal(42, span[0]);
        span[1] = 7;
        Assert.Equal(7, b[0x11]);
    }

    [Theory]
    [InlineData(0x0FFEUL, 4, GuestMemoryError.CrossesRegionBoundary)] // adjacent regions
    [InlineData(0x1FFEUL, 4, GuestMemoryError.OutOfRange)]            // runs into the gap
    [InlineData(0x5000UL, 1, GuestMemoryError.OutOfRange)]            // in the gap
    [InlineData(0x10FFFUL, 2, GuestMemoryError.OutOfRange)]           // past the last region
    [InlineData(ulong.MaxValue, 2, GuestMemoryError.AddressOverflow)]
    [InlineData(0x0UL, -1, GuestMemoryError.OutOfRange)]
    public void TryGetSpan_Failures(ulong address, int length, GuestMemoryError expected)
    {
        RegionGuestMemory memory = TwoAdjacentAndOneDistant(out _, out _, out _);
        Assert.Equal(expected, memory.TryGetSpan(new GuestAddress(address), length, GuestMemoryAccess.Read, out Span<byte> span));
        Assert.True(span.IsEmpty);
    }

    [Fact]
    public void TryGetSpan_ZeroLength_Succeeds()
    {
        RegionGuestMemory memory = TwoAdjacentAndOneDistant(out _, out _, out _);
        Assert.Equal(GuestMemoryError.None, memory.TryGetSpan(new GuestAddress(0x5000), 0, GuestMemoryAccess.Write, out Span<byte> span));
        Assert.True(span.IsEmpty);
    }

    [Fact]
    public void ReadOnlyRegion_RefusesWrites()
    {
        byte[] rom = { 1, 2, 3, 4 };
        var memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(0x100), rom, GuestMemoryAccess.Read));
        Assert.Equal(GuestMemoryError.AccessDenied, memory.TryGetSpan(new GuestAddress(0x100), 2, GuestMemoryAccess.Write, out _));
        Assert.Equal(GuestMemoryError.AccessDenied, memory.TryWrite(new GuestAddress(0x100), new byte[] { 9 }));
        Assert.Equal(GuestMemoryError.AccessDenied, memory.TryStoreReleaseUInt16(new GuestAddress(0x100), 9));
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, rom);
        Assert.Equal(GuestMemoryError.None, memory.TryLoadAcquireUInt16(new GuestAddress(0x102), out ushort value));
        Assert.Equal(0x0403, value);
    }

    [Fact]
    public void TryRead_AndTryWrite_StitchAcrossAdjacentRegions()
    {
        RegionGuestMemory memory = TwoAdjacentAndOneDistant(out byte[] a, out byte[] b, out _);
        Assert.Equal(GuestMemoryError.None, memory.TryWrite(new GuestAddress(0xFFD), new byte[] { 1, 2, 3, 4, 5, 6 }));
        Assert.Equal(new byte[] { 1, 2, 3 }, a.AsSpan(0xFFD).ToArray());
        Assert.Equal(new byte[] { 4, 5, 6 }, b.AsSpan(0, 3).ToArray());
        byte[] read = new byte[6];
        Assert.Equal(GuestMemoryError.None, memory.TryRead(new GuestAddress(0xFFD), read));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, read);
    }

    [Fact]
    public void TryWrite_IntoAGap_WritesNothing()
    {
        RegionGuestMemory memory = TwoAdjacentAndOneDistant(out _, out byte[] b, out _);
        Assert.Equal(GuestMemoryError.OutOfRange, memory.TryWrite(new GuestAddress(0x1FFE), new byte[] { 1, 2, 3, 4 }));
        Assert.Equal(0, b[0xFFE]);
        Assert.Equal(0, b[0xFFF]);
        Assert.Equal(GuestMemoryError.OutOfRange, memory.TryRead(new GuestAddress(0x1FFE), new byte[4]));
    }

    [Fact]
    public void TryWrite_AcrossIntoAReadOnlyRegion_WritesNothing()
    {
        byte[] ram = new byte[16];
        var memory = new RegionGuestMemory(new[]
        {
            new GuestMemoryRegion(new GuestAddress(0), ram),
            new GuestMemoryRegion(new GuestAddress(16), new byte[16], GuestMemoryAccess.Read),
        });
        Assert.Equal(GuestMemoryError.AccessDenied, memory.TryWrite(new GuestAddress(14), new byte[] { 1, 2, 3, 4 }));
        Assert.Equal(0, ram[14]);
    }

    [Fact]
    public void AtomicIndexAccess_RequiresAlignmentAndOneRegion()
    {
        RegionGuestMemory memory = TwoAdjacentAndOneDistant(out byte[] a, out _, out _);
        Assert.Equal(GuestMemoryError.Misaligned, memory.TryLoadAcquireUInt16(new GuestAddress(0x11), out _));
        Assert.Equal(GuestMemoryError.Misaligned, memory.TryStoreReleaseUInt16(new GuestAddress(0x11), 1));
        Assert.Equal(GuestMemoryError.OutOfRange, memory.TryLoadAcquireUInt16(new GuestAddress(0x5000), out _));
        Assert.Equal(GuestMemoryError.None, memory.TryStoreReleaseUInt16(new GuestAddress(0x10), 0xBEEF));
        Assert.Equal(new byte[] { 0xEF, 0xBE }, a.AsSpan(0x10, 2).ToArray());
        Assert.Equal(GuestMemoryError.None, memory.TryLoadAcquireUInt16(new GuestAddress(0x10), out ushort value));
        Assert.Equal(0xBEEF, value);
    }

    [Fact]
    public void MemoryBackedRegion_UsesTheSliceOffset()
    {
        byte[] backing = new byte[64];
        var memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(0x1000), backing.AsMemory(16, 32)));
        Assert.Equal(GuestMemoryError.None, memory.TryWrite(new GuestAddress(0x1000), new byte[] { 5 }));
        Assert.Equal(5, backing[16]);
        Assert.Equal(GuestMemoryError.OutOfRange, memory.TryGetSpan(new GuestAddress(0x1000 + 32), 1, GuestMemoryAccess.Read, out _));
    }

    [Fact]
    public unsafe void PointerBackedRegion_ReadsAndWritesHostMemory()
    {
        byte* host = (byte*)NativeMemory.AllocZeroed(4096);
        try
        {
            var memory = new RegionGuestMemory(GuestMemoryRegion.FromHostPointer(new GuestAddress(0x4000_0000), (nint)host, 4096));
            Assert.True(memory.Regions[0].IsPointerBacked);
            Assert.Equal(GuestMemoryError.None, memory.TryWrite(new GuestAddress(0x4000_0010), new byte[] { 1, 2, 3 }));
            Assert.Equal(2, host[0x11]);
            Assert.Equal(GuestMemoryError.None, memory.TryStoreReleaseUInt16(new GuestAddress(0x4000_0ffe), 0x1234));
            Assert.Equal(0x34, host[0xffe]);
            Assert.Equal(GuestMemoryError.OutOfRange, memory.TryGetSpan(new GuestAddress(0x4000_0ffe), 4, GuestMemoryAccess.Read, out _));
        }
        finally
        {
            NativeMemory.Free(host);
        }
    }

    [Fact]
    public void ManyRegions_LookupFindsTheRightOne()
    {
        var regions = new List<GuestMemoryRegion>();
        var backings = new List<byte[]>();
        for (int i = 0; i < 100; i++)
        {
            byte[] backing = new byte[0x100];
            backing[0] = (byte)i;
            backings.Add(backing);
            regions.Add(new GuestMemoryRegion(new GuestAddress((ulong)i * 0x1000), backing)); // gaps between
        }

        var memory = new RegionGuestMemory(regions.AsEnumerable().Reverse());
        var random = new Random(1234);
        for (int n = 0; n < 1000; n++)
        {
            int i = random.Next(100);
            Assert.True(memory.TryFindRegion(new GuestAddress(((ulong)i * 0x1000) + 0x80), out GuestMemoryRegion? found));
            Assert.Equal((ulong)i * 0x1000, found.Start.Value);
            byte[] one = new byte[1];
            Assert.Equal(GuestMemoryError.None, memory.TryRead(new GuestAddress((ulong)i * 0x1000), one));
            Assert.Equal((byte)i, one[0]);
            Assert.False(memory.TryFindRegion(new GuestAddress(((ulong)i * 0x1000) + 0x100), out _));
        }
    }

    [Fact]
    public void AtomicIndexAccess_OnHostMisalignedBacking_StillWorks()
    {
        // Guest address 0 is aligned, but the host bytes start at an odd offset of the array:
        // the engine falls back to a plain access with a full fence.
        byte[] backing = new byte[64];
        var memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(0), backing.AsMemory(1, 32)));
        Assert.Equal(GuestMemoryError.None, memory.TryStoreReleaseUInt16(new GuestAddress(2), 0xA1B2));
        Assert.Equal(new byte[] { 0xB2, 0xA1 }, backing.AsSpan(3, 2).ToArray());
        Assert.Equal(GuestMemoryError.None, memory.TryLoadAcquireUInt16(new GuestAddress(2), out ushort value));
        Assert.Equal(0xA1B2, value);
    }
}
