// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VirtioGpio.Device.Memory;

/// <summary>Acquire/release 16-bit little-endian accesses on host memory that backs guest memory.</summary>
internal static class HostAtomics
{
    /// <summary>Loads a little-endian 16-bit value with acquire semantics from the first two bytes of <paramref name="span"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort LoadAcquireUInt16LittleEndian(Span<byte> span)
    {
        ref byte first = ref MemoryMarshal.GetReference(span);
        if (span.Length >= sizeof(ushort) && IsAligned2(ref first))
        {
            // SAFETY: two bytes of live host memory, 2-byte aligned on the host, so the 16-bit
            // volatile (acquire) load is a single atomic access.
            ushort raw = Volatile.Read(ref Unsafe.As<byte, ushort>(ref first));
            return BitConverter.IsLittleEndian ? raw : BinaryPrimitives.ReverseEndianness(raw);
        }

        // Host backing not 2-byte aligned (unusual): plain read followed by a full fence.
        ushort value = BinaryPrimitives.ReadUInt16LittleEndian(span);
        Interlocked.MemoryBarrier();
        return value;
    }

    /// <summary>Stores a little-endian 16-bit value with release semantics into the first two bytes of <paramref name="span"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreReleaseUInt16LittleEndian(Span<byte> span, ushort value)
    {
        ref byte first = ref MemoryMarshal.GetReference(span);
        if (span.Length >= sizeof(ushort) && IsAligned2(ref first))
        {
            ushort raw = BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);

            // SAFETY: two bytes of live host memory, 2-byte aligned on the host, so the volatile
            // (release) store is one atomic access ordered after every earlier write.
            Volatile.Write(ref Unsafe.As<byte, ushort>(ref first), raw);
            return;
        }

        Interlocked.MemoryBarrier();
        BinaryPrimitives.WriteUInt16LittleEndian(span, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe bool IsAligned2(ref byte first)
    {
        // SAFETY: only the numeric value of the address is inspected. A managed array may move,
        // but the GC preserves the pointer-size alignment of array data, so the answer holds.
        return ((nuint)Unsafe.AsPointer(ref first) & 1) == 0;
    }
}
