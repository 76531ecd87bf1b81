// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Transport.Mmio;

namespace VirtioGpio.Transport.Tests.Mmio;

/// <summary>Typed register accesses on a <see cref="VirtioMmioTransport"/>, as a guest issues them.</summary>
internal sealed class MmioBus(VirtioMmioTransport transport)
{
    public uint Read32(VirtioMmioRegister register) => Read32((ulong)register);

    public uint Read32(ulong offset)
    {
        Span<byte> data = stackalloc byte[4];
        transport.Read(offset, data);
        return BinaryPrimitives.ReadUInt32LittleEndian(data);
    }

    public void Write32(VirtioMmioRegister register, uint value) => Write32((ulong)register, value);

    public void Write32(ulong offset, uint value)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        transport.Write(offset, data);
    }

    public byte Read8(ulong offset)
    {
        Span<byte> data = stackalloc byte[1];
        transport.Read(offset, data);
        return data[0];
    }

    public ushort Read16(ulong offset)
    {
        Span<byte> data = stackalloc byte[2];
        transport.Read(offset, data);
        return BinaryPrimitives.ReadUInt16LittleEndian(data);
    }

    public void Write64(VirtioMmioRegister low, ulong value)
    {
        Write32(low, unchecked((uint)value));
        Write32((ulong)low + 4, (uint)(value >> 32));
    }
}
