// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Memory;

/// <summary>Why a guest-memory access failed. Accesses either succeed completely or fail with one of these.</summary>
public enum GuestMemoryError : byte
{
    /// <summary>The access succeeded.</summary>
    None = 0,

    /// <summary><c>address + length</c> wraps past 2^64.</summary>
    AddressOverflow,

    /// <summary>Some byte of the range is not backed by any region.</summary>
    OutOfRange,

    /// <summary>The range crosses a region boundary and this operation needs one contiguous host range.</summary>
    CrossesRegionBoundary,

    /// <summary>The region does not permit the requested access.</summary>
    AccessDenied,

    /// <summary>The address is not aligned as the access requires (ring indices are 2-byte aligned).</summary>
    Misaligned,

    /// <summary>The length is larger than one host span can describe.</summary>
    LengthTooLarge,
}
