// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Transport.Pci;

namespace VirtioGpio.Transport.Tests.Pci;

/// <summary>Typed configuration-space and BAR accesses on a <see cref="VirtioPciTransport"/>.</summary>
internal sealed class PciBus(VirtioPciTransport transport)
{
    public byte Config8(int offset)
    {
        Span<byte> b = stackalloc byte[1];
        transport.ReadConfigSpace(offset, b);
        return b[0];
    }

    public ushort Config16(int offset)
    {
        Span<byte> b = stackalloc byte[2];
        transport.ReadConfigSpace(offset, b);
        return BinaryPrimitives.ReadUInt16LittleEndian(b);
    }

    public uint Config32(int offset)
    {
        Span<byte> b = stackalloc byte[4];
        transport.ReadConfigSpace(offset, b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    public void WriteConfig8(int offset, byte value) => transport.WriteConfigSpace(offset, [value]);

    public void WriteConfig16(int offset, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        transport.WriteConfigSpace(offset, b);
    }

    public void WriteConfig32(int offset, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        transport.WriteConfigSpace(offset, b);
    }

    public byte Bar8(ulong offset)
    {
        Span<byte> b = stackalloc byte[1];
        transport.ReadBar(0, offset, b);
        return b[0];
    }

    public ushort Bar16(ulong offset)
    {
        Span<byte> b = stackalloc byte[2];
        transport.ReadBar(0, offset, b);
        return BinaryPrimitives.ReadUInt16LittleEndian(b);
    }

    public uint Bar32(ulong offset)
    {
        Span<byte> b = stackalloc byte[4];
        transport.ReadBar(0, offset, b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    public void WriteBar8(ulong offset, byte value) => transport.WriteBar(0, offset, [value]);

    public void WriteBar16(ulong offset, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        transport.WriteBar(0, offset, b);
    }

    public void WriteBar32(ulong offset, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        transport.WriteBar(0, offset, b);
    }

    /// <summary>vp_iowrite64_twopart: low dword, then high dword.</summary>
    public void WriteBar64TwoPart(ulong offset, ulong value)
    {
        WriteBar32(offset, unchecked((uint)value));
        WriteBar32(offset + 4, (uint)(value >> 32));
    }
}
