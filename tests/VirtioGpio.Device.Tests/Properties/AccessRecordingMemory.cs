// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Tests.Properties;

/// <summary>
/// An <see cref="IGuestMemory"/> wrapper for property tests: delegates to real memory, counts every
/// call, and checks each successful access against an independent list of regions (no byte outside
/// a region, no write to a read-only one) and each write against a policy supplied by the test
/// (the engine may only write the used ring and the writable buffers of chains it holds).
/// Violations are collected, not thrown, so the engine's own behaviour is observed unchanged.
/// </summary>
internal sealed class AccessRecordingMemory : IGuestMemory
{
    private readonly IGuestMemory _inner;
    private readonly (ulong Start, ulong Length, GuestMemoryAccess Access)[] _regions;

    public AccessRecordingMemory(IGuestMemory inner, IEnumerable<(ulong Start, ulong Length, GuestMemoryAccess Access)> regions)
    {
        _inner = inner;
        _regions = regions.ToArray();
    }

    /// <summary>Decides whether a write of <c>[address, address + length)</c> is allowed right now.</summary>
    public Func<ulong, ulong, bool> IsWriteAllowed { get; set; } = (_, _) => true;

    public long Calls { get; private set; }

    public List<string> Violations { get; } = new();

    public GuestMemoryError TryGetSpan(GuestAddress address, int length, GuestMemoryAccess access, out Span<byte> span)
    {
        Calls++;
        GuestMemoryError error = _inner.TryGetSpan(address, length, access, out span);
        if (error == GuestMemoryError.None)
        {
            Check(nameof(TryGetSpan), address.Value, (ulong)length, access, span.Length == length);
        }

        return error;
    }

    public GuestMemoryError TryRead(GuestAddress address, Span<byte> destination)
    {
        Calls++;
        GuestMemoryError error = _inner.TryRead(address, destination);
        if (error == GuestMemoryError.None)
        {
            Check(nameof(TryRead), address.Value, (ulong)destination.Length, GuestMemoryAccess.Read, true);
        }

        return error;
    }

    public GuestMemoryError TryWrite(GuestAddress address, ReadOnlySpan<byte> source)
    {
        Calls++;
        if (source.Length > 0 && !IsWriteAllowed(address.Value, (ulong)source.Length))
        {
            Violations.Add($"TryWrite to [{address}, +{source.Length}) is neither the used ring nor a held writable buffer");
        }

        GuestMemoryError error = _inner.TryWrite(address, source);
        if (error == GuestMemoryError.None)
        {
            Check(nameof(TryWrite), address.Value, (ulong)source.Length, GuestMemoryAccess.Write, true);
        }

        return error;
    }

    public GuestMemoryError TryLoadAcquireUInt16(GuestAddress address, out ushort value)
    {
        Calls++;
        GuestMemoryError error = _inner.TryLoadAcquireUInt16(address, out value);
        if (error == GuestMemoryError.None)
        {
            Check(nameof(TryLoadAcquireUInt16), address.Value, 2, GuestMemoryAccess.Read, true);
        }

        return error;
    }

    public GuestMemoryError TryStoreReleaseUInt16(GuestAddress address, ushort value)
    {
        Calls++;
        if (!IsWriteAllowed(address.Value, 2))
        {
            Violations.Add($"TryStoreReleaseUInt16 to {address} outside the used ring");
        }

        GuestMemoryError error = _inner.TryStoreReleaseUInt16(address, value);
        if (error == GuestMemoryError.None)
        {
            Check(nameof(TryStoreReleaseUInt16), address.Value, 2, GuestMemoryAccess.Write, true);
        }

        return error;
    }

    private void Check(string operation, ulong address, ulong length, GuestMemoryAccess access, bool lengthMatches)
    {
        if (!lengthMatches)
        {
            Violations.Add($"{operation} at 0x{address:x} returned a span of the wrong length");
        }

        if (length == 0)
        {
            return;
        }

        // Every byte must be inside some region with the access (regions may be adjacent).
        ulong current = address;
        ulong remaining = length;
        while (remaining > 0)
        {
            int index = Array.FindIndex(_regions, r => current >= r.Start && current - r.Start < r.Length);
            if (index < 0)
            {
                Violations.Add($"{operation} touched unbacked byte 0x{current:x} (range 0x{address:x}+{length})");
                return;
            }

            (ulong start, ulong regionLength, GuestMemoryAccess regionAccess) = _regions[index];
            if ((regionAccess & access) != access)
            {
                Violations.Add($"{operation} {access} at 0x{current:x} in a {regionAccess} region");
                return;
            }

            ulong chunk = Math.Min(remaining, regionLength - (current - start));
            remaining -= chunk;
            current += chunk;
        }
    }
}
