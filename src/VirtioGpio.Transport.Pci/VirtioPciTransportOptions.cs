// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging;

namespace VirtioGpio.Transport.Pci;

/// <summary>Options of a <see cref="VirtioPciTransport"/>.</summary>
public sealed class VirtioPciTransportOptions
{
    /// <summary>PCI subsystem vendor ID (default 0x1AF4).</summary>
    public ushort SubsystemVendorId { get; set; } = 0x1AF4;

    /// <summary>PCI subsystem ID (default 0x0040 + device ID, clamped to 16 bits, as modern devices use ≥ 0x40).</summary>
    public ushort? SubsystemId { get; set; }

    /// <summary>PCI class code as (class &lt;&lt; 16 | subclass &lt;&lt; 8 | prog-if). Default 0x088000: system peripheral, other.</summary>
    public uint ClassCode { get; set; } = 0x088000;

    /// <summary>Number of MSI-X vectors (default: one per queue plus one for configuration changes). 0 disables MSI-X (INTx only).</summary>
    public int? MsixVectorCount { get; set; }

    /// <summary>Logger for ignored or invalid accesses (rate-limited).</summary>
    public ILogger? Logger { get; set; }
}
