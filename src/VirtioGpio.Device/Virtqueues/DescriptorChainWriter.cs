// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtioGpio.Device.Internal;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <summary>
/// Scatters bytes across a chain's device-writable buffers, from the first writable byte on; never
/// touches readable ones (VIRTIO 1.3 §2.7.4 "Message Framing"; §2.7.5.1 "Device Requirements: The
/// Virtqueue Descriptor Table": "A device MUST NOT write to a device-readable buffer").
/// <see cref="BytesWritten"/> is the used length to report (§2.7.8.2: the device MUST write at
/// least <c>len</c> bytes, beginning at the first device-writable buffer).
/// </summary>
/// <example>
/// <code>
/// DescriptorChainWriter writer = chain.CreateWriter();
/// writer.TryWriteExactly(stackalloc byte[] { 0 /* status */, 1 /* value */ });
/// queue.AddUsed(chain.HeadIndex, writer.BytesWritten);
/// </code>
/// </example>
public ref struct DescriptorChainWriter
{
    private readonly IGuestMemory? _memory;
    private readonly HostBase _host; // valid when the queue's walk found every buffer in one region: direct host copies
    private readonly ReadOnlySpan<Descriptor> _descriptors; // device-writable buffers only
    private int _index;
    private uint _offset;
    private uint _remaining;
    private uint _written;
    private GuestMemoryError _lastError;

    /// <summary>Creates a writer over the writable descriptors of <paramref name="descriptors"/> (those after the readable prefix).</summary>
    internal DescriptorChainWriter(IGuestMemory memory, ReadOnlySpan<Descriptor> descriptors)
    {
        int first = 0;
        while (first < descriptors.Length && !descriptors[first].IsWriteOnly)
        {
            first++;
        }

        ReadOnlySpan<Descriptor> writable = descriptors.Slice(first);
        ulong total = 0;
        foreach (Descriptor descriptor in writable)
        {
            total += descriptor.Length;
        }

        this = new DescriptorChainWriter(memory, writable, (uint)Math.Min(total, uint.MaxValue));
    }

    /// <summary>Creates a writer over exactly <paramref name="writable"/>, whose lengths add up to <paramref name="writableLength"/>.</summary>
    internal DescriptorChainWriter(IGuestMemory memory, ReadOnlySpan<Descriptor> writable, uint writableLength)
        : this(memory, default, writable, writableLength)
    {
    }

    /// <summary>As the constructor above, with the host base of the one region that holds every buffer (validated by the queue), or an invalid one.</summary>
    internal DescriptorChainWriter(IGuestMemory memory, HostBase host, ReadOnlySpan<Descriptor> writable, uint writableLength)
    {
        _memory = memory;
        _host = host;
        _descriptors = writable;
        _index = 0;
        _offset = 0;
        _remaining = writableLength;
        _written = 0;
        _lastError = GuestMemoryError.None;
    }

    /// <summary>Bytes written so far: the used length to report.</summary>
    public readonly uint BytesWritten => _written;

    /// <summary>Writable bytes left.</summary>
    public readonly uint Remaining => _remaining;

    /// <summary>The memory error that stopped the last write, if any.</summary>
    public readonly GuestMemoryError LastError => _lastError;

    /// <summary>Writes as much of <paramref name="source"/> as fits.</summary>
    /// <param name="source">Bytes to write.</param>
    /// <returns>The number of bytes written.</returns>
    public int Write(scoped ReadOnlySpan<byte> source)
    {
        if ((uint)source.Length > _remaining)
        {
            source = source.Slice(0, (int)Math.Min(_remaining, int.MaxValue));
        }

        int written = Copy(source, ref _index, ref _offset);
        _remaining -= (uint)written;
        _written += (uint)written;
        return written;
    }

    /// <summary>
    /// Writes all of <paramref name="source"/>, or nothing when it does not fit. On a memory failure
    /// part of the bytes may have reached guest memory, but the position and
    /// <see cref="BytesWritten"/> do not move, so they are never reported as written.
    /// </summary>
    /// <param name="source">Bytes to write.</param>
    /// <returns><see langword="false"/> when it does not fit or memory failed.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWriteExactly(scoped ReadOnlySpan<byte> source)
    {
        // Fast path, inlined into the caller: region-backed memory and the current buffer takes all of it
        // (the common one-response-per-descriptor case).
        int index = _index;
        ReadOnlySpan<Descriptor> descriptors = _descriptors;
        uint length = (uint)source.Length;
        if (_host.IsValid && (uint)index < (uint)descriptors.Length && length - 1 < _remaining)
        {
            ref readonly Descriptor current = ref Unsafe.Add(ref MemoryMarshal.GetReference(descriptors), index); // index < Length, checked above
            uint offset = _offset;
            uint left = current.Length - offset;
            if (length <= left)
            {
                // SAFETY: [addr, addr + len) was checked at pop to lie in the region of _host, writable (so
                // addr + offset cannot wrap), and offset + length <= len.
                SmallCopy.CopyTo(source, ref _host.At(current.Address.Value + offset));

                if (length == left)
                {
                    _index = index + 1;
                    _offset = 0;
                }
                else
                {
                    _offset = offset + length;
                }

                _remaining -= length;
                _written += length;
                return true;
            }
        }

        return TryWriteExactlySlow(source);
    }

    private bool TryWriteExactlySlow(scoped ReadOnlySpan<byte> source)
    {
        if ((uint)source.Length > _remaining)
        {
            return false;
        }

        int index = _index;
        uint offset = _offset;
        if (Copy(source, ref index, ref offset) != source.Length)
        {
            return false;
        }

        _index = index;
        _offset = offset;
        _remaining -= (uint)source.Length;
        _written += (uint)source.Length;
        return true;
    }

    private int Copy(scoped ReadOnlySpan<byte> source, ref int index, ref uint offset)
    {
        int done = 0;
        ReadOnlySpan<Descriptor> descriptors = _descriptors;
        while (done < source.Length && index < descriptors.Length)
        {
            Descriptor descriptor = descriptors[index];
            uint available = descriptor.Length - offset;
            if (available == 0)
            {
                index++;
                offset = 0;
                continue;
            }

            int chunk = (int)Math.Min(available, (uint)(source.Length - done));

            // addr + offset cannot wrap: addr + len was checked when the chain was popped.
            GuestAddress address = new(descriptor.Address.Value + offset);
            ReadOnlySpan<byte> piece = source.Slice(done, chunk);
            GuestMemoryError error = GuestMemoryError.None;
            if (_host.IsValid)
            {
                // SAFETY: the chunk lies inside a writable buffer the queue validated against the region of _host.
                SmallCopy.CopyTo(piece, ref _host.At(address.Value));
            }
            else
            {
                error = _memory!.TryWrite(address, piece);
            }

            if (error != GuestMemoryError.None)
            {
                _lastError = error;
                break;
            }

            done += chunk;
            offset += (uint)chunk;
            if (offset == descriptor.Length)
            {
                index++;
                offset = 0;
            }
        }

        return done;
    }
}
