// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VirtioGpio.Device.Internal;

/// <summary>
/// Copies between guest memory and device buffers. Requests and responses are a few bytes long
/// (virtio-gpio messages are 2 to 16 bytes), where a call to the general memmove costs more than the
/// copy: up to 16 bytes are copied inline with at most two overlapping loads and two stores.
/// </summary>
internal static class SmallCopy
{
    /// <summary>Copies <paramref name="source"/> to the start of <paramref name="destination"/> (which is at least as long).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int length = source.Length;
        if (length > 16 || destination.Length < length)
        {
            source.CopyTo(destination); // large, or a caller bug: the checked copy throws for a short destination
            return;
        }

        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);

        // Both loads happen before both stores, so the copy is right even where the ranges overlap.
        if (length >= 8)
        {
            ulong head = Unsafe.ReadUnaligned<ulong>(ref src);
            ulong tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, length - 8));
            Unsafe.WriteUnaligned(ref dst, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, length - 8), tail);
        }
        else if (length >= 4)
        {
            uint head = Unsafe.ReadUnaligned<uint>(ref src);
            uint tail = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref src, length - 4));
            Unsafe.WriteUnaligned(ref dst, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, length - 4), tail);
        }
        else if (length >= 2)
        {
            ushort head = Unsafe.ReadUnaligned<ushort>(ref src);
            ushort tail = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref src, length - 2));
            Unsafe.WriteUnaligned(ref dst, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, length - 2), tail);
        }
        else if (length == 1)
        {
            dst = src;
        }
    }

    /// <summary>Copies <c>destination.Length</c> bytes from <paramref name="source"/> (host bytes the caller validated).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyFrom(ref byte source, Span<byte> destination)
        => CopyBlock(ref MemoryMarshal.GetReference(destination), ref source, destination.Length);

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> (host bytes the caller validated).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyTo(ReadOnlySpan<byte> source, ref byte destination)
        => CopyBlock(ref destination, ref MemoryMarshal.GetReference(source), source.Length);

    /// <summary>Copies <paramref name="length"/> bytes; up to 16 inline with overlapping loads before the stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyBlock(ref byte dst, ref byte src, int length)
    {
        if (length >= 8)
        {
            if (length > 16)
            {
                Unsafe.CopyBlockUnaligned(ref dst, ref src, (uint)length);
                return;
            }

            ulong head = Unsafe.ReadUnaligned<ulong>(ref src);
            ulong tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, length - 8));
            Unsafe.WriteUnaligned(ref dst, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, length - 8), tail);
        }
        else if (length >= 4)
        {
            uint head = Unsafe.ReadUnaligned<uint>(ref src);
            uint tail = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref src, length - 4));
            Unsafe.WriteUnaligned(ref dst, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, length - 4), tail);
        }
        else if (length >= 2)
        {
            ushort head = Unsafe.ReadUnaligned<ushort>(ref src);
            ushort tail = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref src, length - 2));
            Unsafe.WriteUnaligned(ref dst, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, length - 2), tail);
        }
        else if (length == 1)
        {
            dst = src;
        }
    }
}
