// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Tests.Virtqueues;

/// <summary>Counts accesses of each kind, delegating to real memory (forces the engine's generic path).</summary>
internal sealed class CountingGuestMemory : IGuestMemory
{
    private readonly IGuestMemory _inner;

    public CountingGuestMemory(IGuestMemory inner) => _inner = inner;

    public int AcquireLoads { get; private set; }

    public int ReleaseStores { get; private set; }

    public int Spans { get; private set; }

    public int Reads { get; private set; }

    public int Writes { get; private set; }

    public GuestMemoryError TryGetSpan(GuestAddress address, int length, GuestMemoryAccess access, out Span<byte> span)
    {
        Spans++;
        return _inner.TryGetSpan(address, length, access, out span);
    }

    public GuestMemoryError TryRead(GuestAddress address, Span<byte> destination)
    {
        Reads++;
        return _inner.TryRead(address, destination);
    }

    public GuestMemoryError TryWrite(GuestAddress address, ReadOnlySpan<byte> source)
    {
        Writes++;
        return _inner.TryWrite(address, source);
    }

    public GuestMemoryError TryLoadAcquireUInt16(GuestAddress address, out ushort value)
    {
        AcquireLoads++;
        return _inner.TryLoadAcquireUInt16(address, out value);
    }

    public GuestMemoryError TryStoreReleaseUInt16(GuestAddress address, ushort value)
    {
        ReleaseStores++;
        return _inner.TryStoreReleaseUInt16(address, value);
    }
}
