// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;

namespace VirtioGpio.Device.Tests.Testing;

public sealed class TestGuestMemoryTests
{
    [Fact]
    public void HelpersRoundTripLittleEndianValuesAndBytes()
    {
        var memory = new TestGuestMemory(4096);
        memory.WriteUInt16(new GuestAddress(0x10), 0x1234);
        memory.WriteUInt32(new GuestAddress(0x20), 0xA1B2C3D4);
        memory.WriteUInt64(new GuestAddress(0x30), 0x0102030405060708);

        Assert.Equal(new byte[] { 0x34, 0x12 }, memory.ReadBytes(new GuestAddress(0x10), 2));
        Assert.Equal(0xA1B2C3D4u, memory.ReadUInt32(new GuestAddress(0x20)));
        Assert.Equal(0x0102030405060708ul, memory.ReadUInt64(new GuestAddress(0x30)));
        Assert.Equal((byte)0x08, memory.GetRegionArray(0)[0x30]);
    }

    [Fact]
    public void FillSetsEveryByteOfTheRange()
    {
        var memory = new TestGuestMemory(64);
        memory.Fill(new GuestAddress(8), 4, 0xAA);
        Assert.Equal(new byte[] { 0, 0xAA, 0xAA, 0xAA, 0xAA, 0 }, memory.ReadBytes(new GuestAddress(7), 6));
    }

    [Fact]
    public void DeviceAccessesGoThroughTheCoreRegionMemory()
    {
        var memory = new TestGuestMemory(
            new TestMemoryRegion(new GuestAddress(0x1000), 0x1000),
            new TestMemoryRegion(new GuestAddress(0x2000), 0x1000));

        Assert.Equal(2, memory.RegionMemory.Regions.Count);
        Assert.Equal(GuestMemoryError.None, memory.TryWrite(new GuestAddress(0x1FFE), new byte[] { 1, 2, 3, 4 }));
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, memory.ReadBytes(new GuestAddress(0x1FFE), 4));
        Assert.Equal(GuestMemoryError.CrossesRegionBoundary, memory.TryGetSpan(new GuestAddress(0x1FFE), 4, GuestMemoryAccess.Read, out _));
        Assert.NotEqual(GuestMemoryError.None, memory.TryRead(new GuestAddress(0x2FFF), new byte[2]));
        Assert.NotEqual(GuestMemoryError.None, memory.TryRead(new GuestAddress(0xFFF), new byte[2]));
    }

    [Fact]
    public void RingIndexAccessIsLittleEndianAndRejectsOddAddresses()
    {
        var memory = new TestGuestMemory(64);
        Assert.Equal(GuestMemoryError.None, memory.TryStoreReleaseUInt16(new GuestAddress(2), 0xBEEF));
        Assert.Equal(new byte[] { 0xEF, 0xBE }, memory.ReadBytes(new GuestAddress(2), 2));
        Assert.Equal(GuestMemoryError.None, memory.TryLoadAcquireUInt16(new GuestAddress(2), out ushort value));
        Assert.Equal(0xBEEF, value);
        Assert.Equal(GuestMemoryError.Misaligned, memory.TryLoadAcquireUInt16(new GuestAddress(3), out _));
    }

    [Fact]
    public void ReadOnlyRegionRefusesDeviceWritesButTestHelpersMayFillIt()
    {
        var memory = new TestGuestMemory(new TestMemoryRegion(default, 64, GuestMemoryAccess.Read));
        Assert.Equal(GuestMemoryError.AccessDenied, memory.TryWrite(new GuestAddress(0), new byte[] { 1 }));
        memory.WriteBytes(new GuestAddress(0), new byte[] { 7 });
        Assert.Equal(7, memory.ReadBytes(new GuestAddress(0), 1)[0]);
    }

    [Fact]
    public void HelpersThrowForUnmappedRangesAndIsMappedSaysWhy()
    {
        var memory = new TestGuestMemory(new TestMemoryRegion(new GuestAddress(0x100), 0x100));
        Assert.True(memory.IsMapped(new GuestAddress(0x100), 0x100));
        Assert.False(memory.IsMapped(new GuestAddress(0x100), 0x101));
        Assert.False(memory.IsMapped(new GuestAddress(ulong.MaxValue), 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.ReadBytes(new GuestAddress(0x1F0), 0x20));
    }

    [Fact]
    public void OverlappingRegionsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new TestGuestMemory(
            new TestMemoryRegion(new GuestAddress(0), 0x100),
            new TestMemoryRegion(new GuestAddress(0xFF), 0x100)));
    }
}
