// SPDX-License-Identifier: MIT
using System.Globalization;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Testing;

/// <summary>A half-open guest-physical range <c>[Start, Start + Length)</c>, used by the test kit to describe allowed, faulty or allocated memory.</summary>
public readonly struct GuestRange : IEquatable<GuestRange>
{
    /// <summary>Creates a range.</summary>
    /// <param name="start">First byte.</param>
    /// <param name="length">Length in bytes.</param>
    public GuestRange(GuestAddress start, ulong length)
    {
        Start = start;
        Length = length;
    }

    /// <summary>Creates a range from numeric values.</summary>
    /// <param name="start">First byte.</param>
    /// <param name="length">Length in bytes.</param>
    public GuestRange(ulong start, ulong length)
        : this(new GuestAddress(start), length)
    {
    }

    /// <summary>First byte of the range.</summary>
    public GuestAddress Start { get; }

    /// <summary>Length in bytes.</summary>
    public ulong Length { get; }

    /// <summary>One past the last byte, saturated at 2^64 - 1 when the range reaches the top of the address space.</summary>
    public ulong EndExclusive => unchecked(Start.Value + Length) < Start.Value ? ulong.MaxValue : Start.Value + Length;

    /// <summary>Whether <c>[address, address + length)</c> lies entirely inside this range. An empty access is inside when its address is.</summary>
    /// <param name="address">Start of the access.</param>
    /// <param name="length">Length of the access.</param>
    /// <returns><see langword="true"/> when fully contained.</returns>
    public bool Contains(GuestAddress address, ulong length)
    {
        if (address.Value < Start.Value)
        {
            return false;
        }

        ulong offset = address.Value - Start.Value;
        return offset <= Length && length <= Length - offset;
    }

    /// <summary>Whether the range shares at least one byte with <c>[address, address + length)</c>.</summary>
    /// <param name="address">Start of the other range.</param>
    /// <param name="length">Length of the other range.</param>
    /// <returns><see langword="true"/> when the ranges overlap.</returns>
    public bool Overlaps(GuestAddress address, ulong length)
    {
        if (length == 0 || Length == 0)
        {
            return false;
        }

        ulong otherEnd = unchecked(address.Value + length) < address.Value ? ulong.MaxValue : address.Value + length;
        return address.Value < EndExclusive && Start.Value < otherEnd;
    }

    /// <inheritdoc/>
    public bool Equals(GuestRange other) => Start == other.Start && Length == other.Length;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GuestRange other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Start, Length);

    /// <summary>Formats the range as <c>[0x…, 0x…)</c>.</summary>
    /// <returns>The formatted range.</returns>
    public override string ToString() =>
        "[" + Start + ", 0x" + EndExclusive.ToString("x", CultureInfo.InvariantCulture) + ")";

    /// <summary>Equality.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>Whether both ranges are equal.</returns>
    public static bool operator ==(GuestRange left, GuestRange right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>Whether the ranges differ.</returns>
    public static bool operator !=(GuestRange left, GuestRange right) => !left.Equals(right);
}
