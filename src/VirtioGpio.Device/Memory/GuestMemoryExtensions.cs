// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using VirtioGpio.Device.Internal;

namespace VirtioGpio.Device.Memory;

/// <summary>
/// Little-endian scalar helpers over any <see cref="IGuestMemory"/> (virtio structures are
/// little-endian: VIRTIO 1.3 §1.4 "Structure Specifications"). Values that cross a region boundary
/// are read and written through the stitched copy paths; none of these throws for a guest address.
/// </summary>
/// <remarks>These are plain (non-atomic) accesses; use <see cref="IGuestMemory.TryLoadAcquireUInt16"/> and
/// <see cref="IGuestMemory.TryStoreReleaseUInt16"/> for ring indices.</remarks>
public static class GuestMemoryExtensions
{
    /// <summary>Reads a little-endian <see cref="ushort"/>.</summary>
    /// <param name="memory">Guest memory.</param>
    /// <param name="address">Guest address of the value.</param>
    /// <param name="value">The value, or 0 on failure.</param>
    /// <returns><see cref="GuestMemoryError.None"/> on success.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="memory"/> is null.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GuestMemoryError TryReadUInt16LittleEndian(this IGuestMemory memory, GuestAddress address, out ushort value)
    {
        ThrowHelper.ThrowIfNull(memory);
        GuestMemoryError error = memory.TryGetSpan(address, sizeof(ushort), GuestMemoryAccess.Read, out Span<byte> span);
        if (error == GuestMemoryError.None)
        {
            value = BinaryPrimitives.ReadUInt16LittleEndian(span);
            return error;
        }

        return ReadSlow(memory, address, error, out value);

        static GuestMemoryError ReadSlow(IGuestMemory memory, GuestAddress address, GuestMemoryError error, out ushort value)
        {
            Span<byte> buffer = stackalloc byte[sizeof(ushort)];
            if (error == GuestMemoryError.CrossesRegionBoundary && (error = memory.TryRead(address, buffer)) == GuestMemoryError.None)
            {
                value = BinaryPrimitives.ReadUInt16LittleEndian(buffer);
                return error;
            }

            value = 0;
            return error;
        }
    }

    /// <summary>Reads a little-endian <see cref="uint"/>.</summary>
    /// <param name="memory">Guest memory.</param>
    /// <param name="address">Guest address of the value.</param>
    /// <param name="value">The value, or 0 on failure.</param>
    /// <returns><see cref="GuestMemoryError.None"/> on success.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="memory"/> is null.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GuestMemoryError TryReadUInt32LittleEndian(this IGuestMemory memory, GuestAddress address, out uint value)
    {
        ThrowHelper.ThrowIfNull(memory);
        GuestMemoryError error = memory.TryGetSpan(address, sizeof(uint), GuestMemoryAccess.Read, out Span<byte> span);
        if (error == GuestMemoryError.None)
        {
            value = BinaryPrimitives.ReadUInt32LittleEndian(span);
            return error;
        }

        return ReadSlow(memory, address, error, out value);

        static GuestMemoryError ReadSlow(IGuestMemory memory, GuestAddress address, GuestMemoryError error, out uint value)
        {
            Span<byte> buffer = stackalloc byte[sizeof(uint)];
            if (error == GuestMemoryError.CrossesRegionBoundary && (error = memory.TryRead(address, buffer)) == GuestMemoryError.None)
            {
                value = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
                return error;
            }

            value = 0;
            return error;
        }
    }

    /// <summary>Reads a little-endian <see cref="ulong"/>.</summary>
    /// <param name="memory">Guest memory.</param>
    /// <param name="address">Guest address of the value.</param>
    /// <param name="value">The value, or 0 on failure.</param>
    /// <returns><see cref="GuestMemoryError.None"/> on success.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="memory"/> is null.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GuestMemoryError TryReadUInt64LittleEndian(this IGuestMemory memory, GuestAddress address, out ulong value)
    {
        ThrowHelper.ThrowIfNull(memory);
        GuestMemoryError error = memory.TryGetSpan(address, sizeof(ulong), GuestMemoryAccess.Read, out Span<byte> span);
        if (error == GuestMemoryError.None)
        {
            value = BinaryPrimitives.ReadUInt64LittleEndian(span);
            return error;
        }

        return ReadSlow(memory, address, error, out value);

        static GuestMemoryError ReadSlow(IGuestMemory memory, GuestAddress address, GuestMemoryError error, out ulong value)
        {
            Span<byte> buffer = stackalloc byte[sizeof(ulong)];
            if (error == GuestMemoryError.CrossesRegionBoundary && (error = memory.TryRead(address, buffer)) == GuestMemoryError.None)
            {
                value = BinaryPrimitives.ReadUInt64LittleEndian(buffer);
                return error;
            }

            value = 0;
            return error;
        }
    }

    /// <summary>Writes a little-endian <see cref="ushort"/>.</summary>
    /// <param name="memory">Guest memory.</param>
    /// <param name="address">Guest address of the value.</param>
    /// <param name="value">The value.</param>
    /// <returns><see cref="GuestMemoryError.None"/> on success; on failure nothing was written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="memory"/> is null.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GuestMemoryError TryWriteUInt16LittleEndian(this IGuestMemory memory, GuestAddress address, ushort value)
    {
        ThrowHelper.ThrowIfNull(memory);
        GuestMemoryError error = memory.TryGetSpan(address, sizeof(ushort), GuestMemoryAccess.Write, out Span<byte> span);
        if (error == GuestMemoryError.None)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span, value);
            return error;
        }

        if (error != GuestMemoryError.CrossesRegionBoundary)
        {
            return error;
        }

        Span<byte> buffer = stackalloc byte[sizeof(ushort)];
        BinaryPrimitives.WriteUInt16LittleEndian(buffer, value);
        return memory.TryWrite(address, buffer);
    }

    /// <summary>Writes a little-endian <see cref="uint"/>.</summary>
    /// <param name="memory">Guest memory.</param>
    /// <param name="address">Guest address of the value.</param>
    /// <param name="value">The value.</param>
    /// <returns><see cref="GuestMemoryError.None"/> on success; on failure nothing was written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="memory"/> is null.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GuestMemoryError TryWriteUInt32LittleEndian(this IGuestMemory memory, GuestAddress address, uint value)
    {
        ThrowHelper.ThrowIfNull(memory);
        GuestMemoryError error = memory.TryGetSpan(address, sizeof(uint), GuestMemoryAccess.Write, out Span<byte> span);
        if (error == GuestMemoryError.None)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span, value);
            return error;
        }

        if (error != GuestMemoryError.CrossesRegionBoundary)
        {
            return error;
        }

        Span<byte> buffer = stackalloc byte[sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, value);
        return memory.TryWrite(address, buffer);
    }

    /// <summary>Writes a little-endian <see cref="ulong"/>.</summary>
    /// <param name="memory">Guest memory.</param>
    /// <param name="address">Guest address of the value.</param>
    /// <param name="value">The value.</param>
    /// <returns><see cref="GuestMemoryError.None"/> on success; on failure nothing was written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="memory"/> is null.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GuestMemoryError TryWriteUInt64LittleEndian(this IGuestMemory memory, GuestAddress address, ulong value)
    {
        ThrowHelper.ThrowIfNull(memory);
        GuestMemoryError error = memory.TryGetSpan(address, sizeof(ulong), GuestMemoryAccess.Write, out Span<byte> span);
        if (error == GuestMemoryError.None)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span, value);
            return error;
        }

        if (error != GuestMemoryError.CrossesRegionBoundary)
        {
            return error;
        }

        Span<byte> buffer = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(buffer, value);
        return memory.TryWrite(address, buffer);
    }
}
