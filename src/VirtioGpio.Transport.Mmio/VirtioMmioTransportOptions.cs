// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging;

namespace VirtioGpio.Transport.Mmio;

/// <summary>Options of a <see cref="VirtioMmioTransport"/>.</summary>
public sealed class VirtioMmioTransportOptions
{
    /// <summary>Register-file version: 2 (modern, default) or 1 (legacy interface, VIRTIO 1.3 §4.2.4 "Legacy interface").</summary>
    public int Version { get; set; } = 2;

    /// <summary>The value of the VendorID register.</summary>
    public uint VendorId { get; set; } = 0x1AF4;

    /// <summary>Logger for ignored or invalid register accesses (rate-limited).</summary>
    public ILogger? Logger { get; set; }
}
