// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Diagnostics;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

/// <summary>The driver side of one split ring in <see cref="GuestRam"/> (2-descriptor chains: readable request, writable response).</summary>
internal sealed class TestRing
{
    private const int SlotSize = 64;
    private readonly GuestRam _ram;
    private ushort _availIdx;
    private ushort _nextDescriptor;

    public TestRing(GuestRam ram, uint index, int size, ulong gpa)
    {
        _ram = ram;
        Index = index;
        Size = size;
        Descriptors = gpa;
        Avail = gpa + (ulong)(16 * size);
        Used = (Avail + 6 + (ulong)(2 * size) + 3) & ~3UL;
        Data = (Used + 6 + (ulong)(8 * size) + 15) & ~15UL;
    }

    public uint Index { get; }

    public int Size { get; }

    public ulong Descriptors { get; }

    public ulong Avail { get; }

    public ulong Used { get; }

    public ulong Data { get; }

    public ulong End => Data + (ulong)(Size / 2 * SlotSize);

    public ushort UsedIdx => _ram.ReadU16(Used + 2);

    public ushort AvailIdx => _availIdx;

    /// <summary>SET_VRING_ADDR payload (user addresses; log = GPA of the used ring, like QEMU).</summary>
    public byte[] AddressPayload()
    {
        byte[] payload = new byte[VhostUserVringAddress.Size];
        new VhostUserVringAddress(Index, 0, _ram.UserAddress(Descriptors), _ram.UserAddress(Used), _ram.UserAddress(Avail), Used).Write(payload);
        return payload;
    }

    /// <summary>Posts a chain: one readable descriptor with <paramref name="request"/>, one writable of <paramref name="writableLength"/> bytes.</summary>
    public ushort Submit(ReadOnlySpan<byte> request, int writableLength)
    {
        ushort head = _nextDescriptor;
        _nextDescriptor = (ushort)((_nextDescriptor + 2) % Size);
        ulong slot = Data + ((ulong)(head / 2) * SlotSize);
        request.CopyTo(_ram.Span(slot, request.Length));
        _ram.Span(slot + 32, writableLength).Fill(0xEE);
        WriteDescriptor(head, slot, (uint)request.Length, 1, (ushort)(head + 1));
        WriteDescriptor((ushort)(head + 1), slot + 32, (uint)writableLength, 2, 0);
        _ram.WriteU16(Avail + 4 + (ulong)(2 * (_availIdx % Size)), head);

        // used_event (VIRTIO_F_EVENT_IDX): notify me at the next used entry, as Linux does.
        _ram.WriteU16(Avail + 4 + (ulong)(2 * Size), UsedIdx);
        Thread.MemoryBarrier();
        _availIdx++;
        _ram.WriteU16(Avail + 2, _availIdx);
        Thread.MemoryBarrier();
        return head;
    }

    public byte[] Response(ushort head, int length) => _ram.Span(Data + ((ulong)(head / 2) * SlotSize) + 32, length).ToArray();

    public (uint Id, uint Length) UsedElement(int position)
    {
        ulong element = Used + 4 + (ulong)(8 * (position % Size));
        return (_ram.ReadU32(element), _ram.ReadU32(element + 4));
    }

    /// <summary>Waits until used->idx reaches <paramref name="count"/>; false after 5 s.</summary>
    public bool WaitUsed(int count)
    {
        var watch = Stopwatch.StartNew();
        while (UsedIdx < count)
        {
            if (watch.ElapsedMilliseconds > TestFrontend.TimeoutMilliseconds)
            {
                return false;
            }

            Thread.Sleep(1);
        }

        return true;
    }

    private void WriteDescriptor(ushort index, ulong address, uint length, ushort flags, ushort next)
    {
        ulong entry = Descriptors + ((ulong)index * 16);
        _ram.WriteU64(entry, address);
        _ram.WriteU32(entry + 8, length);
        _ram.WriteU16(entry + 12, flags);
        _ram.WriteU16(entry + 14, next);
    }

    /// <summary>A GPIO GET_VALUE request for <paramref name="line"/> (8 bytes).</summary>
    public static byte[] GetValueRequest(ushort line)
    {
        byte[] request = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(request, 4);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), line);
        return request;
    }

    /// <summary>A GPIO eventq request for <paramref name="line"/> (2 bytes).</summary>
    public static byte[] IrqRequest(ushort line)
    {
        byte[] request = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(request, line);
        return request;
    }
}
