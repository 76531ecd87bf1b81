// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtioGpio.Device.Internal;

namespace VirtioGpio.Device.Memory;

/// <summary>
/// One contiguous range of guest physical memory, <c>[Start, Start + Length)</c>, backed by host
/// memory: a managed <see cref="byte"/> array / <see cref="Memory{T}"/>, or an unmanaged host
/// pointer (for example an mmap'd memfd of a vhost-user memory table).
/// </summary>
/// <remarks>
/// <para>A sealed class rather than the <c>readonly struct</c> the style guide sketches: a region
/// carries several backing fields, is shared by reference from <see cref="RegionGuestMemory"/>'s
/// sorted table, and is never copied on the lookup path.</para>
/// <para>Pointer-backed regions do not own their mapping: whoever created the region (the
/// vhost-user transport) must keep the mapping alive until no <see cref="RegionGuestMemory"/>
/// using it can be accessed any more (in practice: until the device stopped every queue).</para>
/// <para>For atomic ring-index access the host backing should be at least 2-byte aligned where the
/// guest address is (arrays, <c>mmap</c> and page-aligned memfd offsets all are); otherwise
/// <see cref="RegionGuestMemory"/> falls back to a full fence around a plain access.</para>
/// </remarks>
public sealed unsafe class GuestMemoryRegion
{
    // Exactly one backing is used: _array (with _arrayOffset), else _pointer, else _memory.
    private readonly byte[]? _array;
    private readonly int _arrayOffset;
    private readonly byte* _pointer;
    private readonly Memory<byte> _memory;

    /// <summary>Creates a region backed by a whole managed array.</summary>
    /// <param name="start">Guest physical address of the first byte.</param>
    /// <param name="buffer">Host backing; its length is the region length (at least 1).</param>
    /// <param name="access">What the device may do with the region.</param>
    /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
    /// <exception cref="ArgumentException">The buffer is empty, or <c>start + length</c> wraps past 2^64.</exception>
    public GuestMemoryRegion(GuestAddress start, byte[] buffer, GuestMemoryAccess access = GuestMemoryAccess.ReadWrite)
    {
        ThrowHelper.ThrowIfNull(buffer);
        Validate(start, (ulong)buffer.LongLength, access);
        Start = start;
        Length = (ulong)buffer.LongLength;
        Access = access;
        _array = buffer;
        _arrayOffset = 0;
    }

    /// <summary>Creates a region backed by managed or native <see cref="Memory{T}"/>.</summary>
    /// <param name="start">Guest physical address of the first byte.</param>
    /// <param name="memory">Host backing; its length is the region length (at least 1).</param>
    /// <param name="access">What the device may do with the region.</param>
    /// <exception cref="ArgumentException">The memory is empty, or <c>start + length</c> wraps past 2^64.</exception>
    public GuestMemoryRegion(GuestAddress start, Memory<byte> memory, GuestMemoryAccess access = GuestMemoryAccess.ReadWrite)
    {
        Validate(start, (ulong)memory.Length, access);
        Start = start;
        Length = (ulong)memory.Length;
        Access = access;
        if (MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)memory, out ArraySegment<byte> segment) && segment.Array is not null)
        {
            _array = segment.Array;
            _arrayOffset = segment.Offset;
        }
        else
        {
            _memory = memory;
        }
    }

    private GuestMemoryRegion(GuestAddress start, byte* pointer, ulong length, GuestMemoryAccess access)
    {
        if (pointer == null)
        {
            ThrowHelper.ThrowArgumentException("The host pointer is null.", "hostAddress");
        }

        Validate(start, length, access);
        if (unchecked((ulong)pointer + (length - 1)) < (ulong)pointer)
        {
            ThrowHelper.ThrowArgumentException("The host range wraps the address space.", nameof(length));
        }

        Start = start;
        Length = length;
        Access = access;
        _pointer = pointer;
    }

    /// <summary>
    /// Creates a region over unmanaged host memory (for example an <c>mmap</c>'d vhost-user memory
    /// region). The caller keeps <c>[hostAddress, hostAddress + length)</c> mapped for the region's lifetime.
    /// </summary>
    /// <param name="start">Guest physical address of the first byte.</param>
    /// <param name="hostAddress">Host virtual address of the first byte.</param>
    /// <param name="length">Region length in bytes (at least 1; may exceed 2 GiB).</param>
    /// <param name="access">What the device may do with the region.</param>
    /// <returns>The region.</returns>
    /// <exception cref="ArgumentException">The pointer is null, the length is 0, or a range wraps.</exception>
    public static GuestMemoryRegion FromHostPointer(GuestAddress start, nint hostAddress, ulong length, GuestMemoryAccess access = GuestMemoryAccess.ReadWrite)
        => new(start, (byte*)hostAddress, length, access);

    /// <summary>Guest physical address of the first byte.</summary>
    public GuestAddress Start { get; }

    /// <summary>Length in bytes (at least 1).</summary>
    public ulong Length { get; }

    /// <summary>Guest physical address of the last byte (inclusive; never wraps).</summary>
    public GuestAddress LastAddress => new(Start.Value + (Length - 1));

    /// <summary>What the device may do with this region.</summary>
    public GuestMemoryAccess Access { get; }

    /// <summary>Whether the region is backed by an unmanaged host pointer.</summary>
    public bool IsPointerBacked => _pointer != null;

    /// <summary>Whether <paramref name="address"/> lies inside the region.</summary>
    /// <param name="address">A guest address.</param>
    /// <returns><see langword="true"/> when the address is backed by this region.</returns>
    public bool Contains(GuestAddress address) => unchecked(address.Value - Start.Value) < Length;

    /// <inheritdoc/>
    public override string ToString() => $"[{Start}, +0x{Length:x}) {Access}{(IsPointerBacked ? " (host pointer)" : string.Empty)}";

    /// <summary>Host view of <c>[Start + offset, Start + offset + length)</c>; the caller checked the range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Span<byte> GetSpanUnchecked(ulong offset, int length)
    {
        if (_array is not null)
        {
#if NET
            // SAFETY: offset + length <= Length <= _array.Length - _arrayOffset was checked by the
            // caller (every internal caller validates the range against this region first).
            return MemoryMarshal.CreateSpan(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_array), (nint)(uint)_arrayOffset + (nint)offset), length);
#else
            return new Span<byte>(_array, _arrayOffset + (int)offset, length);
#endif
        }

        if (_pointer != null)
        {
            // SAFETY: offset + length <= Length was checked by the caller, and the creator of a
            // pointer-backed region guarantees [pointer, pointer + Length) stays mapped.
            return new Span<byte>(_pointer + offset, length);
        }

        return _memory.Span.Slice((int)offset, length);
    }

    /// <summary>
    /// The host base of the region (<see cref="HostBase.At(ulong)"/> takes guest addresses), for the
    /// queue engine's resolved fast paths. <see langword="false"/> for a <see cref="Memory{T}"/> that is
    /// not an array (a custom <see cref="System.Buffers.MemoryManager{T}"/>): its span is only
    /// available per access.
    /// </summary>
    internal bool TryGetHostBase(out HostBase hostBase)
    {
        if (_array is not null)
        {
            hostBase = HostBase.ForArray(_array, unchecked((nint)_arrayOffset - (nint)Start.Value));
            return true;
        }

        if (_pointer != null)
        {
            hostBase = HostBase.ForPointer(unchecked((nint)_pointer - (nint)Start.Value));
            return true;
        }

        hostBase = default;
        return false;
    }

    private static void Validate(GuestAddress start, ulong length, GuestMemoryAccess access)
    {
        if (length == 0)
        {
            ThrowHelper.ThrowArgumentException("A guest memory region must not be empty.", nameof(length));
        }

        if (!start.IsRangeValid(length))
        {
            ThrowHelper.ThrowArgumentException($"The region [{start}, +0x{length:x}) wraps past 2^64.", nameof(start));
        }

        if ((access & ~GuestMemoryAccess.ReadWrite) != 0)
        {
            ThrowHelper.ThrowArgumentException("Unknown access flags.", nameof(access));
        }
    }
}
