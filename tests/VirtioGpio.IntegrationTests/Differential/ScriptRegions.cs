// SPDX-License-Identifier: MIT
namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>
/// The address spaces a register script names. Offsets are relative to the region's base, which each side finds
/// for itself (QEMU and our transport place the virtio-pci structures differently; that is allowed).
/// </summary>
public static class ScriptRegions
{
    /// <summary>The virtio-mmio window of the device (MMIO scripts; the default region there).</summary>
    public const string Mmio = "mmio";

    /// <summary>The reserved guest RAM window that holds rings and buffers (both transports).</summary>
    public const string Ram = "ram";

    /// <summary>PCI configuration space, from offset 0.</summary>
    public const string Config = "cfg";

    /// <summary>PCI configuration space, relative to the MSI-X capability.</summary>
    public const string MsixCapability = "msixcap";

    /// <summary>PCI configuration space, relative to the VIRTIO_PCI_CAP_PCI_CFG capability.</summary>
    public const string PciCfgCapability = "pcicfgcap";

    /// <summary>The structures inside BARs, located through their capabilities.</summary>
    public static readonly IReadOnlyList<string> BarRegions = ["common", "notify", "isr", "device", "msix", "pba"];

    /// <summary>Whether <paramref name="region"/> is reached through the PCI configuration space.</summary>
    public static bool IsConfigRegion(string region) => region is Config or MsixCapability or PciCfgCapability;

    /// <summary>Whether <paramref name="region"/> lives in a PCI BAR.</summary>
    public static bool IsBarRegion(string region) => BarRegions.Contains(region);

    /// <summary>Whether a script for <paramref name="pci"/> (or MMIO) may name <paramref name="region"/>.</summary>
    public static bool IsValid(string region, bool pci) =>
        region == Ram || (pci ? IsConfigRegion(region) || IsBarRegion(region) : region == Mmio);
}
