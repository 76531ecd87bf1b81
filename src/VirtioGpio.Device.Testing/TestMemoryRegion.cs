// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Testing;

/// <summary>Describes one array-backed region of a <see cref="TestGuestMemory"/>.</summary>
public readonly struct TestMemoryRegion
{
    /// <summary>Describes a region.</summary>
    /// <param name="start">Guest address of the first byte.</param>
    /// <param name="length">Length in bytes (1 .. <see cref="Array.MaxLength"/>).</param>
    /// <param name="access">What the device may do with it (a read-only region models a ROM or a write-protected mapping).</param>
    public TestMemoryRegion(GuestAddress start, int length, GuestMemoryAccess access = GuestMemoryAccess.ReadWrite)
    {
        Start = start;
        Length = length;
        Access = access;
    }

    /// <summary>Guest address of the first byte.</summary>
    public GuestAddress Start { get; }

    /// <summary>Length in bytes.</summary>
    public int Length { get; }

    /// <summary>Permitted device accesses.</summary>
    public GuestMemoryAccess Access { get; }

    /// <summary>The guest range the region covers.</summary>
    public GuestRange Range => new(Start, (ulong)Length);
}
