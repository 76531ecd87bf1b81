// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Testing;

/// <summary>Which <see cref="IGuestMemory"/> member made an access recorded by <see cref="RecordingGuestMemory"/>.</summary>
public enum GuestMemoryOperation
{
    /// <summary><see cref="IGuestMemory.TryGetSpan"/> (the access kind is the requested <see cref="GuestMemoryAccess"/>).</summary>
    GetSpan,

    /// <summary><see cref="IGuestMemory.TryRead"/>.</summary>
    Read,

    /// <summary><see cref="IGuestMemory.TryWrite"/>.</summary>
    Write,

    /// <summary><see cref="IGuestMemory.TryLoadAcquireUInt16"/>.</summary>
    LoadAcquireUInt16,

    /// <summary><see cref="IGuestMemory.TryStoreReleaseUInt16"/>.</summary>
    StoreReleaseUInt16,
}
