// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Testing;

/// <summary>
/// Wraps any <see cref="IGuestMemory"/> and fails every access that overlaps a chosen range, the
/// way an unmapped hole, a revoked mapping or an IOMMU fault would look to the device. Use it to
/// check that the device turns memory faults into chain or ring errors and never throws.
/// </summary>
/// <remarks>Thread-safe. Give the wrapper to the device and let the test driver write through the inner memory.</remarks>
/// <example>
/// <code>
/// var faulty = new FaultInjectingGuestMemory(memory);
/// faulty.AddFault(chain.Buffers[1].Range, GuestMemoryAccess.Write); // the response buffer is not writable
/// </code>
/// </example>
public sealed class FaultInjectingGuestMemory : IGuestMemory
{
    private readonly object _sync = new();
    private readonly List<Fault> _faults = new();
    private long _injectedCount;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The memory that serves accesses outside the faulty ranges.</param>
    public FaultInjectingGuestMemory(IGuestMemory inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
    }

    /// <summary>The wrapped memory.</summary>
    public IGuestMemory Inner { get; }

    /// <summary>How many accesses were failed so far.</summary>
    public long InjectedFaultCount => Interlocked.Read(ref _injectedCount);

    /// <summary>Makes accesses overlapping <paramref name="range"/> fail.</summary>
    /// <param name="range">The faulty range.</param>
    /// <param name="access">Which accesses fail (<see cref="GuestMemoryAccess.Write"/> models read-only memory).</param>
    /// <param name="error">The error reported.</param>
    /// <param name="remainingHits">Fail only this many accesses, then heal (null: fail forever).</param>
    public void AddFault(GuestRange range, GuestMemoryAccess access = GuestMemoryAccess.ReadWrite, GuestMemoryError error = GuestMemoryError.OutOfRange, int? remainingHits = null)
    {
        if (error == GuestMemoryError.None)
        {
            throw new ArgumentOutOfRangeException(nameof(error), "A fault needs an error other than None.");
        }

        lock (_sync)
        {
            _faults.Add(new Fault(range, access, error) { RemainingHits = remainingHits });
        }
    }

    /// <summary>Removes every fault.</summary>
    public void ClearFaults()
    {
        lock (_sync)
        {
            _faults.Clear();
        }
    }

    /// <inheritdoc/>
    public GuestMemoryError TryGetSpan(GuestAddress address, int length, GuestMemoryAccess access, out Span<byte> span)
    {
        GuestMemoryError injected = Check(address, length < 0 ? 0UL : (ulong)length, access);
        if (injected != GuestMemoryError.None)
        {
            span = default;
            return injected;
        }

        return Inner.TryGetSpan(address, length, access, out span);
    }

    /// <inheritdoc/>
    public GuestMemoryError TryRead(GuestAddress address, Span<byte> destination)
    {
        GuestMemoryError injected = Check(address, (ulong)destination.Length, GuestMemoryAccess.Read);
        return injected != GuestMemoryError.None ? injected : Inner.TryRead(address, destination);
    }

    /// <inheritdoc/>
    public GuestMemoryError TryWrite(GuestAddress address, ReadOnlySpan<byte> source)
    {
        GuestMemoryError injected = Check(address, (ulong)source.Length, GuestMemoryAccess.Write);
        return injected != GuestMemoryError.None ? injected : Inner.TryWrite(address, source);
    }

    /// <inheritdoc/>
    public GuestMemoryError TryLoadAcquireUInt16(GuestAddress address, out ushort value)
    {
        GuestMemoryError injected = Check(address, 2, GuestMemoryAccess.Read);
        if (injected != GuestMemoryError.None)
        {
            value = 0;
            return injected;
        }

        return Inner.TryLoadAcquireUInt16(address, out value);
    }

    /// <inheritdoc/>
    public GuestMemoryError TryStoreReleaseUInt16(GuestAddress address, ushort value)
    {
        GuestMemoryError injected = Check(address, 2, GuestMemoryAccess.Write);
        return injected != GuestMemoryError.None ? injected : Inner.TryStoreReleaseUInt16(address, value);
    }

    private GuestMemoryError Check(GuestAddress address, ulong length, GuestMemoryAccess access)
    {
        lock (_sync)
        {
            foreach (Fault fault in _faults)
            {
                if ((fault.Access & access) == 0 || fault.RemainingHits == 0 || !fault.Range.Overlaps(address, length))
                {
                    continue;
                }

                if (fault.RemainingHits is int hits)
                {
                    fault.RemainingHits = hits - 1;
                }

                Interlocked.Increment(ref _injectedCount);
                return fault.Error;
            }
        }

        return GuestMemoryError.None;
    }

    private sealed class Fault
    {
        public Fault(GuestRange range, GuestMemoryAccess access, GuestMemoryError error)
        {
            Range = range;
            Access = access;
            Error = error;
        }

        public GuestRange Range { get; }

        public GuestMemoryAccess Access { get; }

        public GuestMemoryError Error { get; }

        public int? RemainingHits { get; set; }
    }
}
