// SPDX-License-Identifier: MIT
namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>How a <see cref="ScriptValue"/> is resolved.</summary>
public enum ScriptValueKind
{
    /// <summary>A number, as written.</summary>
    Literal,

    /// <summary><c>ram+N</c>: guest-physical address N bytes into the reserved RAM window.</summary>
    Ram,

    /// <summary><c>bar:REGION</c>: the BAR index holding REGION (PCI).</summary>
    BarOf,

    /// <summary><c>off:REGION+N</c>: REGION's offset inside its BAR, plus N (PCI).</summary>
    OffsetOf,
}
