// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Transport.VhostUser.Interop;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

/// <summary>
/// Front-end "guest RAM": a real memfd mapped MAP_SHARED into the test process. The front-end user
/// address of a byte is its host address in this process (as in QEMU).
/// </summary>
internal sealed unsafe class GuestRam : IDisposable
{
    private readonly MappedMemory _mapping;

    public GuestRam(ulong size = 1 << 20, ulong guestBase = 0)
    {
        Size = size;
        GuestBase = guestBase;
        Fd = MemFd.Create("test-guest-ram", (long)size);
        Assert.Equal(0, MappedMemory.TryMap(Fd, 0, size, out MappedMemory? mapping, out nint pointer));
        _mapping = mapping!;
        Pointer = (byte*)pointer;
    }

    public int Fd { get; private set; }

    public ulong Size { get; }

    public ulong GuestBase { get; }

    public byte* Pointer { get; }

    public ulong UserAddress(ulong gpa) => (ulong)Pointer + (gpa - GuestBase);

    public VhostUserMemoryRegionInfo Region => new(GuestBase, Size, (ulong)Pointer, 0);

    public Span<byte> Span(ulong gpa, int length) => new(Pointer + (gpa - GuestBase), length);

    public ushort ReadU16(ulong gpa) => BinaryPrimitives.ReadUInt16LittleEndian(Span(gpa, 2));

    public uint ReadU32(ulong gpa) => BinaryPrimitives.ReadUInt32LittleEndian(Span(gpa, 4));

    public void WriteU16(ulong gpa, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Span(gpa, 2), value);

    public void WriteU32(ulong gpa, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Span(gpa, 4), value);

    public void WriteU64(ulong gpa, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Span(gpa, 8), value);

    /// <summary>SET_MEM_TABLE payload for the given regions.</summary>
    public static byte[] MemTable(params VhostUserMemoryRegionInfo[] regions)
    {
        byte[] payload = new byte[VhostUserMemoryRegionInfo.TableHeaderSize + (regions.Length * VhostUserMemoryRegionInfo.EncodedSize)];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)regions.Length);
        for (int i = 0; i < regions.Length; i++)
        {
            regions[i].Write(payload.AsSpan(VhostUserMemoryRegionInfo.TableHeaderSize + (i * VhostUserMemoryRegionInfo.EncodedSize)));
        }

        return payload;
    }

    /// <summary>ADD_MEM_REG / REM_MEM_REG payload.</summary>
    public static byte[] SingleRegion(VhostUserMemoryRegionInfo region)
    {
        byte[] payload = new byte[VhostUserMemoryRegionInfo.SingleRegionPayloadSize];
        region.Write(payload.AsSpan(8));
        return payload;
    }

    public void Dispose()
    {
        _mapping.Dispose();
        FileDescriptors.Close(Fd);
        Fd = -1;
    }
}
