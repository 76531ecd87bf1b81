// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Memory;

/// <summary>Whole-range checks over any <see cref="IGuestMemory"/> (GV9: every byte, not only the start).</summary>
internal static class GuestRangeValidator
{
    // Probe granularity: TryGetSpan takes an int length.
    private const int MaxProbe = 1 << 30;

    // A sane memory map has few boundaries; a range needing more boundary searches than this is refused.
    private const int MaxBoundaryCrossings = 64;

    /// <summary>
    /// Checks that every byte of <c>[address, address + length)</c> is accessible with
    /// <paramref name="access"/>. Ranges crossing region boundaries are accepted when each piece
    /// is backed (the boundary is found by bisection over <see cref="IGuestMemory.TryGetSpan"/>).
    /// </summary>
    public static GuestMemoryError Check(IGuestMemory memory, GuestAddress address, ulong length, GuestMemoryAccess access)
    {
        if (length == 0)
        {
            return GuestMemoryError.None;
        }

        if (!address.IsRangeValid(length))
        {
            return GuestMemoryError.AddressOverflow;
        }

        ulong current = address.Value;
        ulong remaining = length;
        int crossings = 0;
        while (remaining != 0)
        {
            int probe = (int)Math.Min(remaining, (ulong)MaxProbe);
            GuestMemoryError error = memory.TryGetSpan(new GuestAddress(current), probe, access, out _);
            if (error == GuestMemoryError.CrossesRegionBoundary)
            {
                if (++crossings > MaxBoundaryCrossings)
                {
                    return GuestMemoryError.CrossesRegionBoundary;
                }

                // Largest accessible prefix: prefixes are monotone (a shorter prefix of an accessible one is accessible).
                int low = 0;
                int high = probe - 1;
                while (low < high)
                {
                    int mid = low + ((high - low + 1) >> 1);
                    if (memory.TryGetSpan(new GuestAddress(current), mid, access, out _) == GuestMemoryError.None)
                    {
                        low = mid;
                    }
                    else
                    {
                        high = mid - 1;
                    }
                }

                if (low == 0)
                {
                    // Not even the first byte: report why.
                    error = memory.TryGetSpan(new GuestAddress(current), 1, access, out _);
                    return error == GuestMemoryError.None ? GuestMemoryError.OutOfRange : error;
                }

                probe = low;
            }
            else if (error != GuestMemoryError.None)
            {
                return error;
            }

            current += (ulong)probe; // cannot wrap: the whole range was checked above
            remaining -= (ulong)probe;
        }

        return GuestMemoryError.None;
    }
}
