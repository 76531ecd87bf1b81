// SPDX-License-Identifier: MIT
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;

namespace VirtioGpio.Device.Memory;

/// <summary>
/// A guest physical address (or, for vhost-user ring addresses, a front-end address translated
/// into one). A distinct type so addresses are never confused with lengths or host pointers.
/// </summary>
/// <remarks>All arithmetic is overflow-checked: <see cref="TryAdd(ulong, out GuestAddress)"/>
/// fails instead of wrapping, as guest-supplied <c>addr + len</c> must never wrap
/// (VIRTIO 1.3 §2.7.5 "The Virtqueue Descriptor Table").</remarks>
[StructLayout(LayoutKind.Sequential)] // one ulong: a descriptor's first field is bit-identical to le64 addr
public readonly struct GuestAddress : IEquatable<GuestAddress>, IComparable<GuestAddress>
{
    /// <summary>Creates an address from its numeric value.</summary>
    /// <param name="value">The 64-bit guest physical address.</param>
    public GuestAddress(ulong value) => Value = value;

    /// <summary>The numeric address.</summary>
    public ulong Value { get; }

    /// <summary>Adds <paramref name="offset"/> without wrapping.</summary>
    /// <param name="offset">Bytes to add.</param>
    /// <param name="result">The sum when it fits in 64 bits.</param>
    /// <returns><see langword="false"/> when the sum would exceed <see cref="ulong.MaxValue"/>.</returns>
    public bool TryAdd(ulong offset, out GuestAddress result)
    {
        ulong sum = unchecked(Value + offset);
        if (sum < Value)
        {
            result = default;
            return false;
        }

        result = new GuestAddress(sum);
        return true;
    }

    /// <summary>Computes the distance from <paramref name="baseAddress"/> to this address.</summary>
    /// <param name="baseAddress">An address not above this one.</param>
    /// <param name="offset">The difference when this address is not below <paramref name="baseAddress"/>.</param>
    /// <returns><see langword="false"/> when this address lies below <paramref name="baseAddress"/>.</returns>
    public bool TryOffsetFrom(GuestAddress baseAddress, out ulong offset)
    {
        if (Value < baseAddress.Value)
        {
            offset = 0;
            return false;
        }

        offset = Value - baseAddress.Value;
        return true;
    }

    /// <summary>Checks that <c>[this, this + length)</c> neither wraps nor ends past 2^64.</summary>
    /// <param name="length">Length of the range in bytes.</param>
    /// <returns><see langword="true"/> when the whole range is representable.</returns>
    public bool IsRangeValid(ulong length) => length == 0 || unchecked(Value + (length - 1)) >= Value;

    /// <summary>Returns <see langword="true"/> when the address is a multiple of <paramref name="alignment"/>.</summary>
    /// <param name="alignment">A power of two.</param>
    /// <returns>Whether the address is aligned.</returns>
    public bool IsAligned(ulong alignment) => (Value & (alignment - 1)) == 0;

    /// <inheritdoc/>
    public bool Equals(GuestAddress other) => Value == other.Value;

    /// <inheritdoc/>
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is GuestAddress other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Value.GetHashCode();

    /// <inheritdoc/>
    public int CompareTo(GuestAddress other) => Value.CompareTo(other.Value);

    /// <summary>Formats the address as <c>0x…</c> hexadecimal.</summary>
    /// <returns>The formatted address.</returns>
    public override string ToString() => "0x" + Value.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Equality.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>Whether both addresses are equal.</returns>
    public static bool operator ==(GuestAddress left, GuestAddress right) => left.Value == right.Value;

    /// <summary>Inequality.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>Whether the addresses differ.</returns>
    public static bool operator !=(GuestAddress left, GuestAddress right) => left.Value != right.Value;

    /// <summary>Ordering.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>Whether <paramref name="left"/> is below <paramref name="right"/>.</returns>
    public static bool operator <(GuestAddress left, GuestAddress right) => left.Value < right.Value;

    /// <summary>Ordering.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>Whether <paramref name="left"/> is above <paramref name="right"/>.</returns>
    public static bool operator >(GuestAddress left, GuestAddress right) => left.Value > right.Value;

    /// <summary>Ordering.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>Whether <paramref name="left"/> is not above <paramref name="right"/>.</returns>
    public static bool operator <=(GuestAddress left, GuestAddress right) => left.Value <= right.Value;

    /// <summary>Ordering.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>Whether <paramref name="left"/> is not below <paramref name="right"/>.</returns>
    public static bool operator >=(GuestAddress left, GuestAddress right) => left.Value >= right.Value;
}
