// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Tests.Memory;

public class GuestMemoryExtensionsTests
{
    [Fact]
    public void LittleEndianHelpers_RoundTrip()
    {
        byte[] ram = new byte[64];
        var memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(0), ram));
        Assert.Equal(GuestMemoryError.None, memory.TryWriteUInt16LittleEndian(new GuestAddress(1), 0x0102));
        Assert.Equal(GuestMemoryError.None, memory.TryWriteUInt32LittleEndian(new GuestAddress(8), 0x01020304));
        Assert.Equal(GuestMemoryError.None, memory.TryWriteUInt64LittleEndian(new GuestAddress(16), 0x0102030405060708));
        Assert.Equal(new byte[] { 0, 2, 1 }, ram.AsSpan(0, 3).ToArray());
        Assert.Equal(new byte[] { 4, 3, 2, 1 }, ram.AsSpan(8, 4).ToArray());
        Assert.Equal(8, ram[16]);

        Assert.Equal(GuestMemoryError.None, memory.TryReadUInt16LittleEndian(new GuestAddress(1), out ushort u16));
        Assert.Equal(GuestMemoryError.None, memory.TryReadUInt32LittleEndian(new GuestAddress(8), out uint u32));
        Assert.Equal(GuestMemoryError.None, memory.TryReadUInt64LittleEndian(new GuestAddress(16), out ulong u64));
        Assert.Equal(0x0102, u16);
        Assert.Equal(0x01020304u, u32);
        Assert.Equal(0x0102030405060708UL, u64);
    }

    [Fact]
    public void ValuesAcrossAdjacentRegions_AreStitched()
    {
        byte[] a = new byte[8];
        byte[] b = new byte[8];
        var memory = new RegionGuestMemory(new[] { new GuestMemoryRegion(new GuestAddress(0), a), new GuestMemoryRegion(new GuestAddress(8), b) });
        Assert.Equal(GuestMemoryError.None, memory.TryWriteUInt64LittleEndian(new GuestAddress(4), 0x1122334455667788));
        Assert.Equal(GuestMemoryError.None, memory.TryReadUInt64LittleEndian(new GuestAddress(4), out ulong value));
        Assert.Equal(0x1122334455667788UL, value);
        Assert.Equal(0x88, a[4]);
        Assert.Equal(0x11, b[3]);
        Assert.Equal(GuestMemoryError.None, memory.TryReadUInt32LittleEndian(new GuestAddress(6), out uint u32));
        Assert.Equal(0x33445566u, u32);
        Assert.Equal(GuestMemoryError.None, memory.TryReadUInt16LittleEndian(new GuestAddress(7), out ushort u16));
        Assert.Equal(0x4455, u16);
    }

    [Fact]
    public void Failures_ReportTheErrorAndZero()
    {
        var memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(0), new byte[8]));
        Assert.Equal(GuestMemoryError.OutOfRange, memory.TryReadUInt32LittleEndian(new GuestAddress(6), out uint value));
        Assert.Equal(0u, value);
        Assert.Equal(GuestMemoryError.OutOfRange, memory.TryWriteUInt64LittleEndian(new GuestAddress(4), 1));
        Assert.Equal(GuestMemoryError.AddressOverflow, memory.TryReadUInt16LittleEndian(new GuestAddress(ulong.MaxValue), out _));
        Assert.Throws<ArgumentNullException>(() => ((IGuestMemory)null!).TryReadUInt16LittleEndian(default, out _));
    }
}
