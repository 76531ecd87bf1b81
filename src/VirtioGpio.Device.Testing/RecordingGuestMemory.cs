// SPDX-License-Identifier: MIT
using System.Text;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Testing;

/// <summary>
/// Wraps any <see cref="IGuestMemory"/> and records every access a device makes (operation,
/// address, length, kind, result), so a test can assert that the device never touched memory it
/// must not, for example VIRTIO 1.3 §2.7.4 "A device MUST NOT write to a device-readable buffer …
/// MUST NOT write to any descriptor table entry" (STANDARD.md G2).
/// </summary>
/// <remarks>Thread-safe. Give the wrapper to the device and keep writing test data through the
/// inner memory, so only the device's accesses are recorded.</remarks>
/// <example>
/// <code>
/// var recording = new RecordingGuestMemory(memory);
/// driver.ConfigureDeviceQueue(queue, recording);
/// // … run the device …
/// recording.AssertNoWritesOutside(driver.Layout.UsedRingRange, chain.WritableRanges[0]);
/// </code>
/// </example>
public sealed class RecordingGuestMemory : IGuestMemory
{
    private readonly object _sync = new();
    private readonly List<GuestMemoryAccessRecord> _records = new();

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The memory that serves the accesses.</param>
    public RecordingGuestMemory(IGuestMemory inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
    }

    /// <summary>The wrapped memory.</summary>
    public IGuestMemory Inner { get; }

    /// <summary>Whether accesses are recorded (default <see langword="true"/>); turn off to skip setup traffic.</summary>
    public bool IsRecording { get; set; } = true;

    /// <summary>A snapshot of the recorded accesses, oldest first.</summary>
    public IReadOnlyList<GuestMemoryAccessRecord> Records
    {
        get
        {
            lock (_sync)
            {
                return _records.ToArray();
            }
        }
    }

    /// <summary>Forgets every recorded access.</summary>
    public void Clear()
    {
        lock (_sync)
        {
            _records.Clear();
        }
    }

    /// <inheritdoc/>
    public GuestMemoryError TryGetSpan(GuestAddress address, int length, GuestMemoryAccess access, out Span<byte> span)
    {
        GuestMemoryError result = Inner.TryGetSpan(address, length, access, out span);
        Record(new GuestMemoryAccessRecord(GuestMemoryOperation.GetSpan, address, length, access, result));
        return result;
    }

    /// <inheritdoc/>
    public GuestMemoryError TryRead(GuestAddress address, Span<byte> destination)
    {
        GuestMemoryError result = Inner.TryRead(address, destination);
        Record(new GuestMemoryAccessRecord(GuestMemoryOperation.Read, address, destination.Length, GuestMemoryAccess.Read, result));
        return result;
    }

    /// <inheritdoc/>
    public GuestMemoryError TryWrite(GuestAddress address, ReadOnlySpan<byte> source)
    {
        GuestMemoryError result = Inner.TryWrite(address, source);
        Record(new GuestMemoryAccessRecord(GuestMemoryOperation.Write, address, source.Length, GuestMemoryAccess.Write, result));
        return result;
    }

    /// <inheritdoc/>
    public GuestMemoryError TryLoadAcquireUInt16(GuestAddress address, out ushort value)
    {
        GuestMemoryError result = Inner.TryLoadAcquireUInt16(address, out value);
        Record(new GuestMemoryAccessRecord(GuestMemoryOperation.LoadAcquireUInt16, address, 2, GuestMemoryAccess.Read, result));
        return result;
    }

    /// <inheritdoc/>
    public GuestMemoryError TryStoreReleaseUInt16(GuestAddress address, ushort value)
    {
        GuestMemoryError result = Inner.TryStoreReleaseUInt16(address, value);
        Record(new GuestMemoryAccessRecord(GuestMemoryOperation.StoreReleaseUInt16, address, 2, GuestMemoryAccess.Write, result));
        return result;
    }

    /// <summary>Recorded accesses of kind <paramref name="access"/> (any overlap) that are not entirely inside one of <paramref name="allowed"/>. Failed accesses count too: asking is already a fault.</summary>
    /// <param name="access">Which accesses to check: <see cref="GuestMemoryAccess.Write"/> checks writes (and read-write spans), <see cref="GuestMemoryAccess.Read"/> reads, both checks all.</param>
    /// <param name="allowed">The permitted ranges.</param>
    /// <returns>The offending records, oldest first.</returns>
    public IReadOnlyList<GuestMemoryAccessRecord> FindAccessesOutside(GuestMemoryAccess access, params GuestRange[] allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        var offending = new List<GuestMemoryAccessRecord>();
        foreach (GuestMemoryAccessRecord record in Records)
        {
            if ((record.Access & access) == 0 || record.Length == 0)
            {
                continue;
            }

            bool inside = false;
            foreach (GuestRange range in allowed)
            {
                if (range.Contains(record.Address, (ulong)Math.Max(0, record.Length)))
                {
                    inside = true;
                    break;
                }
            }

            if (!inside)
            {
                offending.Add(record);
            }
        }

        return offending;
    }

    /// <summary>Throws when the device wrote (or asked for a writable span) outside <paramref name="allowed"/>.</summary>
    /// <param name="allowed">The ranges the device may write: typically the used ring and the chains' writable buffers.</param>
    /// <exception cref="GuestMemoryAssertionException">At least one write fell outside.</exception>
    public void AssertNoWritesOutside(params GuestRange[] allowed) =>
        ThrowIfAny(FindAccessesOutside(GuestMemoryAccess.Write, allowed), "write", allowed);

    /// <summary>Throws when the device made any access (read or write) outside <paramref name="allowed"/>.</summary>
    /// <param name="allowed">The permitted ranges.</param>
    /// <exception cref="GuestMemoryAssertionException">At least one access fell outside.</exception>
    public void AssertNoAccessOutside(params GuestRange[] allowed) =>
        ThrowIfAny(FindAccessesOutside(GuestMemoryAccess.ReadWrite, allowed), "access", allowed);

    /// <summary>Throws when any recorded access overlaps one of <paramref name="forbidden"/> in the given way.</summary>
    /// <param name="access">Which accesses to check.</param>
    /// <param name="forbidden">Ranges that must not be touched.</param>
    /// <exception cref="GuestMemoryAssertionException">An access overlapped a forbidden range.</exception>
    public void AssertNoAccessOverlapping(GuestMemoryAccess access, params GuestRange[] forbidden)
    {
        ArgumentNullException.ThrowIfNull(forbidden);
        var offending = new List<GuestMemoryAccessRecord>();
        foreach (GuestMemoryAccessRecord record in Records)
        {
            if ((record.Access & access) == 0)
            {
                continue;
            }

            foreach (GuestRange range in forbidden)
            {
                if (range.Overlaps(record.Address, (ulong)Math.Max(0, record.Length)))
                {
                    offending.Add(record);
                    break;
                }
            }
        }

        if (offending.Count > 0)
        {
            throw new GuestMemoryAssertionException(Describe(offending, $"{offending.Count} {access} access(es) overlapped forbidden ranges {string.Join(", ", forbidden)}"));
        }
    }

    private static void ThrowIfAny(IReadOnlyList<GuestMemoryAccessRecord> offending, string what, GuestRange[] allowed)
    {
        if (offending.Count > 0)
        {
            throw new GuestMemoryAssertionException(Describe(offending, $"{offending.Count} {what}(s) outside the allowed ranges {string.Join(", ", allowed)}"));
        }
    }

    private static string Describe(IReadOnlyList<GuestMemoryAccessRecord> offending, string headline)
    {
        var text = new StringBuilder(headline).Append(':');
        for (int i = 0; i < offending.Count && i < 20; i++)
        {
            text.Append('\n').Append("  ").Append(offending[i].ToString());
        }

        if (offending.Count > 20)
        {
            text.Append("\n  …");
        }

        return text.ToString();
    }

    private void Record(GuestMemoryAccessRecord record)
    {
        if (!IsRecording)
        {
            return;
        }

        lock (_sync)
        {
            _records.Add(record);
        }
    }
}
