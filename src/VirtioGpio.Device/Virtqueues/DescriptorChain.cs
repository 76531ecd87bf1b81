// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <summary>
/// A validated descriptor chain: every descriptor was read once from guest memory, checked, and
/// copied (indirect tables flattened). Valid until the next pop or read from the same queue.
/// </summary>
/// <remarks>
/// <para>Guest-controlled. Every buffer range was checked to lie entirely in guest memory with the
/// access its flags imply, the readable buffers come before the writable ones, the chain has at
/// most <see cref="SplitQueue.Size"/> buffers and its total length is below 2^32 bytes
/// (VIRTIO 1.3 §2.7.5.2 "Driver Requirements: The Virtqueue Descriptor Table").</para>
/// <para>The buffers themselves can still change under the device: read each field once
/// (<see cref="CreateReader"/> copies) and decide on the copy.</para>
/// </remarks>
public readonly ref struct DescriptorChain
{
    private readonly ReadOnlySpan<Descriptor> _descriptors;
    private readonly HostBase _host; // valid when every buffer lies in one region (resolved by the queue's walk)
    private readonly int _readableCount;

    internal DescriptorChain(IGuestMemory memory, HostBase host, ushort headIndex, ReadOnlySpan<Descriptor> descriptors, int readableCount, uint readableLength, uint writableLength)
    {
        Memory = memory;
        _host = host;
        HeadIndex = headIndex;
        _descriptors = descriptors;
        _readableCount = readableCount;
        ReadableLength = readableLength;
        WritableLength = writableLength;
    }

    /// <summary>The memory the buffers live in.</summary>
    public IGuestMemory Memory { get; }

    /// <summary>The head index to pass to <see cref="SplitQueue.AddUsed(ushort, uint)"/>.</summary>
    public ushort HeadIndex { get; }

    /// <summary>The flattened buffer descriptors: readable ones first, then writable ones; indirect pointers removed.</summary>
    public ReadOnlySpan<Descriptor> Descriptors => _descriptors;

    /// <summary>The device-readable descriptors (a prefix of <see cref="Descriptors"/>).</summary>
    public ReadOnlySpan<Descriptor> ReadableDescriptors => _descriptors.Slice(0, _readableCount);

    /// <summary>The device-writable descriptors (the rest of <see cref="Descriptors"/>).</summary>
    public ReadOnlySpan<Descriptor> WritableDescriptors => _descriptors.Slice(_readableCount);

    /// <summary>Total bytes in device-readable buffers.</summary>
    public uint ReadableLength { get; }

    /// <summary>Total bytes in device-writable buffers.</summary>
    public uint WritableLength { get; }

    /// <summary>Enumerates the flattened descriptors.</summary>
    /// <returns>An enumerator.</returns>
    public ReadOnlySpan<Descriptor>.Enumerator GetEnumerator() => _descriptors.GetEnumerator();

    /// <summary>A gather reader across the device-readable buffers.</summary>
    /// <returns>A reader positioned at the first readable byte.</returns>
    public DescriptorChainReader CreateReader() => new(Memory, _host, _descriptors.Slice(0, _readableCount), ReadableLength);

    /// <summary>A scatter writer across the device-writable buffers.</summary>
    /// <returns>A writer positioned at the first writable byte.</returns>
    public DescriptorChainWriter CreateWriter() => new(Memory, _host, _descriptors.Slice(_readableCount), WritableLength);

    /// <summary>
    /// Copies the first <c>sizeof(T)</c> device-readable bytes into <paramref name="value"/>, gathered across
    /// descriptors however the driver split them (VIRTIO 1.3 §2.7.4.1 "Device Requirements: Message
    /// Framing"). The bytes land in memory order: decode multi-byte fields as little-endian (for example
    /// with <see cref="System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(ulong)"/> on a big-endian
    /// host). The common case, a first readable buffer that holds all of it, is one load.
    /// </summary>
    /// <typeparam name="T">A fixed-size header type (a primitive or a blittable struct).</typeparam>
    /// <param name="value">The copied bytes; default when the method returns <see langword="false"/>.</param>
    /// <returns><see langword="false"/> when fewer readable bytes exist or guest memory failed.</returns>
    /// <example>
    /// <code>
    /// if (chain.TryCopyFromReadable(out ulong request)) { ushort type = (ushort)request; /* little-endian host */ }
    /// </code>
    /// </example>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryCopyFromReadable<T>(out T value)
        where T : unmanaged
    {
        if (_host.IsValid && _readableCount != 0)
        {
            ref readonly Descriptor first = ref MemoryMarshal.GetReference(_descriptors);
            if (first.Length >= (uint)Unsafe.SizeOf<T>())
            {
                // SAFETY: the first readable buffer [addr, addr + len) was checked at pop to lie in the region
                // of _host, and sizeof(T) <= len.
                value = Unsafe.ReadUnaligned<T>(ref _host.At(first.Address.Value));
                return true;
            }
        }

        // The slow paths take the chain and the value by value and return the result: handing them `this` or
        // `value` by reference would make the caller's chain and value address-exposed, so the JIT would keep
        // them on the stack on the fast path too.
        (bool ok, T copied) = CopyFromReadableSlow<T>(this);
        value = copied;
        return ok;
    }

    /// <summary>
    /// Copies <paramref name="value"/>'s bytes to the start of the device-writable buffers, scattered across
    /// descriptors as needed, or writes nothing when they do not fit (memory order: encode multi-byte fields
    /// as little-endian). The used length to report is then <c>sizeof(T)</c>; for a partial "what fits"
    /// answer use <see cref="CreateWriter"/>.
    /// </summary>
    /// <typeparam name="T">A fixed-size response type (a primitive or a blittable struct).</typeparam>
    /// <param name="value">The bytes to write.</param>
    /// <returns><see langword="false"/> when fewer writable bytes exist or guest memory failed (nothing is reported as written).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryCopyToWritable<T>(in T value)
        where T : unmanaged
    {
        ref byte target = ref WritableHostRef((uint)Unsafe.SizeOf<T>());
        if (!Unsafe.IsNullRef(ref target))
        {
            // SAFETY: WritableHostRef returned the first writable buffer, which holds sizeof(T) bytes in the region.
            Unsafe.WriteUnaligned(ref target, value);
            return true;
        }

        return CopyToWritableSlow(this, value);
    }

    /// <summary>
    /// The host location of the first device-writable buffer when it holds at least <paramref name="size"/> bytes and
    /// the chain lies in the queue's resolved region; a null reference otherwise (test with <c>Unsafe.IsNullRef</c>).
    /// For a device that decides what to write before writing it: the chain need not be kept meanwhile.
    /// </summary>
    /// <param name="size">The number of bytes the caller will write at the returned location, at most.</param>
    /// <returns>The first writable byte, or a null reference.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref byte WritableHostRef(uint size)
    {
        int readable = _readableCount;
        if (_host.IsValid && (uint)readable < (uint)_descriptors.Length)
        {
            ref readonly Descriptor first = ref Unsafe.Add(ref MemoryMarshal.GetReference(_descriptors), readable);
            if (first.Length >= size)
            {
                // SAFETY: the first writable buffer [addr, addr + len) was checked at pop to lie, writable, in the
                // region of _host; the caller writes at most size <= len bytes.
                return ref _host.At(first.Address.Value);
            }
        }

        return ref Unsafe.NullRef<byte>();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (bool Ok, T Value) CopyFromReadableSlow<T>(DescriptorChain chain)
        where T : unmanaged
    {
        Span<byte> bytes = stackalloc byte[Unsafe.SizeOf<T>()];
        DescriptorChainReader reader = chain.CreateReader();
        if (!reader.TryReadExactly(bytes))
        {
            return (false, default);
        }

        return (true, Unsafe.ReadUnaligned<T>(ref MemoryMarshal.GetReference(bytes)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool CopyToWritableSlow<T>(DescriptorChain chain, T value)
        where T : unmanaged
    {
        Span<byte> bytes = stackalloc byte[Unsafe.SizeOf<T>()];
        Unsafe.WriteUnaligned(ref MemoryMarshal.GetReference(bytes), value);
        DescriptorChainWriter writer = chain.CreateWriter();
        return writer.TryWriteExactly(bytes);
    }
}
