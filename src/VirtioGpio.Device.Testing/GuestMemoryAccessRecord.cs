// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Testing;

/// <summary>One access a device made through a <see cref="RecordingGuestMemory"/>.</summary>
/// <param name="Operation">The member that was called.</param>
/// <param name="Address">Start of the accessed range.</param>
/// <param name="Length">Length of the accessed range in bytes (2 for ring-index loads and stores; may be negative only if the caller passed a negative span length).</param>
/// <param name="Access">Read, Write or both (for <see cref="GuestMemoryOperation.GetSpan"/>, what the caller asked for).</param>
/// <param name="Result">What the inner memory answered.</param>
public readonly record struct GuestMemoryAccessRecord(
    GuestMemoryOperation Operation,
    GuestAddress Address,
    long Length,
    GuestMemoryAccess Access,
    GuestMemoryError Result)
{
    /// <summary>Whether the access could modify guest memory.</summary>
    public bool IsWrite => (Access & GuestMemoryAccess.Write) != 0;

    /// <summary>Whether the access succeeded.</summary>
    public bool Succeeded => Result == GuestMemoryError.None;

    /// <summary>The accessed range (a negative length is reported as empty).</summary>
    public GuestRange Range => new(Address, Length < 0 ? 0UL : (ulong)Length);

    /// <inheritdoc/>
    public override string ToString() => $"{Operation} {Range} {Access} -> {Result}";
}
