// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtioGpio.Device.Internal;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Virtqueues;

/// <summary>
/// Gathers bytes across a chain's device-readable buffers, whatever the driver's split
/// (VIRTIO 1.3 §2.7.4.1 "Device Requirements: Message Framing": "The device MUST NOT make
/// assumptions about the particular arrangement of descriptors"). Every byte is copied out of
/// guest memory once; nothing here throws or allocates.
/// </summary>
/// <example>
/// <code>
/// Span&lt;byte&gt; request = stackalloc byte[8];
/// DescriptorChainReader reader = chain.CreateReader();
/// if (!reader.TryReadExactly(request)) { /* short request */ }
/// </code>
/// </example>
public ref struct DescriptorChainReader
{
    private readonly IGuestMemory? _memory;
    private readonly HostBase _host; // valid when the queue's walk found every buffer in one region: direct host copies
    private readonly ReadOnlySpan<Descriptor> _descriptors; // device-readable buffers only
    private int _index;        // current descriptor
    private uint _offset;      // bytes consumed in the current descriptor
    private uint _remaining;   // bytes left in the whole readable part
    private GuestMemoryError _lastError;

    /// <summary>Creates a reader over the readable prefix of <paramref name="descriptors"/> (stops at the first writable one).</summary>
    internal DescriptorChainReader(IGuestMemory memory, ReadOnlySpan<Descriptor> descriptors)
    {
        int count = 0;
        ulong total = 0;
        while (count < descriptors.Length && !descriptors[count].IsWriteOnly)
        {
            total += descriptors[count].Length;
            count++;
        }

        this = new DescriptorChainReader(memory, descriptors.Slice(0, count), (uint)Math.Min(total, uint.MaxValue));
    }

    /// <summary>Creates a reader over exactly <paramref name="readable"/>, whose lengths add up to <paramref name="readableLength"/>.</summary>
    internal DescriptorChainReader(IGuestMemory memory, ReadOnlySpan<Descriptor> readable, uint readableLength)
        : this(memory, default, readable, readableLength)
    {
    }

    /// <summary>As the constructor above, with the host base of the one region that holds every buffer (validated by the queue), or an invalid one.</summary>
    internal DescriptorChainReader(IGuestMemory memory, HostBase host, ReadOnlySpan<Descriptor> readable, uint readableLength)
    {
        _memory = memory;
        _host = host;
        _descriptors = readable;
        _index = 0;
        _offset = 0;
        _remaining = readableLength;
        _lastError = GuestMemoryError.None;
    }

    /// <summary>Readable bytes not yet consumed.</summary>
    public readonly uint Remaining => _remaining;

    /// <summary>The memory error that stopped the last read, if any.</summary>
    public readonly GuestMemoryError LastError => _lastError;

    /// <summary>Reads exactly <c>destination.Length</c> bytes, or nothing (the position does not move on failure).</summary>
    /// <param name="destination">Receives the bytes.</param>
    /// <returns><see langword="false"/> when fewer bytes remain or memory failed (see <see cref="LastError"/>).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadExactly(scoped Span<byte> destination)
    {
        // Fast path, inlined into the caller: region-backed memory and the current buffer holds all of it
        // (the common one-request-per-descriptor case).
        int index = _index;
        ReadOnlySpan<Descriptor> descriptors = _descriptors;
        uint length = (uint)destination.Length;
        if (_host.IsValid && (uint)index < (uint)descriptors.Length && length - 1 < _remaining)
        {
            ref readonly Descriptor current = ref Unsafe.Add(ref MemoryMarshal.GetReference(descriptors), index); // index < Length, checked above
            uint offset = _offset;
            uint left = current.Length - offset;
            if (length <= left)
            {
                // SAFETY: [addr, addr + len) was checked at pop to lie in the region of _host (so addr + offset
                // cannot wrap), and offset + length <= len.
                SmallCopy.CopyFrom(ref _host.At(current.Address.Value + offset), destination);

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
                return true;
            }
        }

        return TryReadExactlySlow(destination);
    }

    private bool TryReadExactlySlow(scoped Span<byte> destination)
    {
        if ((uint)destination.Length > _remaining)
        {
            return false;
        }

        int index = _index;
        uint offset = _offset;
        if (Copy(destination, ref index, ref offset) != destination.Length)
        {
            return false;
        }

        _index = index;
        _offset = offset;
        _remaining -= (uint)destination.Length;
        return true;
    }

    /// <summary>Reads up to <c>destination.Length</c> bytes.</summary>
    /// <param name="destination">Receives the bytes.</param>
    /// <returns>The number of bytes read (fewer than requested at the end of the readable part or on a memory failure).</returns>
    public int Read(scoped Span<byte> destination)
    {
        if ((uint)destination.Length > _remaining)
        {
            destination = destination.Slice(0, (int)Math.Min(_remaining, int.MaxValue));
        }

        int read = Copy(destination, ref _index, ref _offset);
        _remaining -= (uint)read;
        return read;
    }

    /// <summary>Skips up to <paramref name="count"/> readable bytes without copying them.</summary>
    /// <param name="count">Bytes to skip.</param>
    /// <returns>The number of bytes skipped.</returns>
    public uint Skip(uint count)
    {
        count = Math.Min(count, _remaining);
        uint left = count;
        while (left != 0 && _index < _descriptors.Length)
        {
            uint available = _descriptors[_index].Length - _offset;
            uint step = Math.Min(available, left);
            left -= step;
            _offset += step;
            if (_offset == _descriptors[_index].Length)
            {
                _index++;
                _offset = 0;
            }
        }

        _remaining -= count - left;
        return count - left;
    }

    /// <summary>Copies into <paramref name="destination"/> from the given position; bounded by the descriptor count.</summary>
    private int Copy(scoped Span<byte> destination, ref int index, ref uint offset)
    {
        int done = 0;
        ReadOnlySpan<Descriptor> descriptors = _descriptors;
        while (done < destination.Length && index < descriptors.Length)
        {
            Descriptor descriptor = descriptors[index];
            uint available = descriptor.Length - offset;
            if (available == 0)
            {
                index++;
                offset = 0;
                continue;
            }

            int chunk = (int)Math.Min(available, (uint)(destination.Length - done));

            // addr + offset cannot wrap: addr + len was checked when the chain was popped.
            GuestAddress address = new(descriptor.Address.Value + offset);
            Span<byte> target = destination.Slice(done, chunk);
            GuestMemoryError error = GuestMemoryError.None;
            if (_host.IsValid)
            {
                // SAFETY: the chunk lies inside a buffer the queue validated against the region of _host.
                SmallCopy.CopyFrom(ref _host.At(address.Value), target);
            }
            else
            {
                error = _memory!.TryRead(address, target);
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
