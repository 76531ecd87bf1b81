// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VirtioGpio.Device.Memory;

/// <summary>
/// Where one <see cref="GuestMemoryRegion"/> lives on the host, reduced to one addition: the host
/// location of guest address <c>a</c> is <c>Bias + a</c>, into a managed array (<see cref="Array"/>
/// set: a byte offset into its data, so the GC may still move it) or as a host pointer
/// (<see cref="Array"/> null). The queue engine resolves it once per region, then reaches ring
/// slots and buffers it has already validated without another region lookup.
/// </summary>
/// <remarks>
/// Nothing here checks a range: <see cref="At(ulong)"/> is only called for guest addresses the
/// caller has checked to lie inside the region the base was taken from (SAFETY comments at each
/// caller). Only valid while that region is the memory of the queue (a queue's memory cannot change
/// while it is ready).
/// </remarks>
internal readonly unsafe struct HostBase
{
    private readonly byte[]? _array;
    private readonly nint _bias;

    private HostBase(byte[]? array, nint bias)
    {
        _array = array;
        _bias = bias;
        IsValid = true;
    }

    /// <summary>Whether the base was resolved (default instances are not).</summary>
    public bool IsValid { get; }

    /// <summary>The backing array, or null for a pointer-backed region.</summary>
    public byte[]? Array => _array;

    /// <summary>Base over array data: guest address <c>a</c> is at byte <c>bias + a</c> of <paramref name="array"/>.</summary>
    public static HostBase ForArray(byte[] array, nint bias) => new(array, bias);

    /// <summary>Base over host memory: guest address <c>a</c> is at host address <c>bias + a</c>.</summary>
    public static HostBase ForPointer(nint bias) => new(null, bias);

    /// <summary>The same base, shifted so that <see cref="At(ulong)"/>(0) is guest address <paramref name="start"/>.</summary>
    /// <param name="start">A guest address.</param>
    /// <returns>The shifted base.</returns>
    public HostBase Offset(ulong start) => IsValid ? new HostBase(_array, unchecked(_bias + (nint)start)) : default;

    /// <summary>The host byte for guest address (or relative offset, for an <see cref="Offset"/> base) <paramref name="address"/>; unchecked.</summary>
    /// <param name="address">A guest address the caller validated against the region.</param>
    /// <returns>A reference to the host byte.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref byte At(ulong address)
    {
        nint position = unchecked(_bias + (nint)address); // wraps by design: bias is (host start - guest start)
        byte[]? array = _array;
        if (array is not null)
        {
            // SAFETY: the caller checked that the guest range lies in the region, whose bytes are
            // array[offset .. offset + Length); position is the index of the first one.
#if NET
            return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), position);
#else
            return ref Unsafe.Add(ref MemoryMarshal.GetReference(array.AsSpan()), position);
#endif
        }

        // SAFETY: as above, for a region whose creator keeps [pointer, pointer + Length) mapped.
        return ref Unsafe.AsRef<byte>((void*)position);
    }
}
