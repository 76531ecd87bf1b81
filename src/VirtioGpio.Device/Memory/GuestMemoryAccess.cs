// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Memory;

/// <summary>The intent of a guest-memory access, checked against a region's permissions.</summary>
[Flags]
public enum GuestMemoryAccess
{
    /// <summary>No access.</summary>
    None = 0,

    /// <summary>The device reads guest memory (a device-readable buffer, the avail ring, the descriptor table).</summary>
    Read = 1,

    /// <summary>The device writes guest memory (a device-writable buffer, the used ring).</summary>
    Write = 2,

    /// <summary>Both read and write.</summary>
    ReadWrite = Read | Write,
}
