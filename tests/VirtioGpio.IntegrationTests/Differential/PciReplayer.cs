// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Transport.Pci;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>
/// Register scripts against our <see cref="VirtioPciTransport"/>. The constructor plays firmware and the guest
/// prelude (<c>dfind_pci</c> in GuestScripts/differential.sh): it programs the BAR, enables memory decoding and bus
/// mastering, and walks the capability list to find each structure, exactly as the guest does with QEMU's function.
/// </summary>
public sealed class PciReplayer : TransportReplayer
{
    /// <summary>Where the "firmware" maps BAR 0 (any address works; the scripts never see it).</summary>
    public const ulong FirmwareBarAddress = 0xfe00_0000;

    private readonly Dictionary<string, (int Bar, ulong Offset)> _bars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _config = new(StringComparer.Ordinal) { [ScriptRegions.Config] = 0 };

    /// <summary>Creates the function and discovers its structures.</summary>
    public PciReplayer(VirtioGpioDeviceOptions deviceOptions, VirtioPciTransportOptions transportOptions)
        : base(deviceOptions)
    {
        Interrupts = new PciInterruptRecorder(Memory);
        Transport = new VirtioPciTransport(Device, Memory, Interrupts, transportOptions);
        ConfigWrite(0x10, 4, FirmwareBarAddress);
        ConfigWrite(0x14, 4, 0);
        ConfigWrite(0x04, 2, 0x0006);
        Discover();
    }

    /// <summary>The transport under test.</summary>
    public VirtioPciTransport Transport { get; }

    /// <summary>MSI-X and INTx.</summary>
    public PciInterruptRecorder Interrupts { get; }

    /// <inheritdoc/>
    protected override void ReadRegister(string region, ulong offset, Span<byte> data)
    {
        if (_config.TryGetValue(region, out int c))
        {
            Transport.ReadConfigSpace(c + (int)offset, data);
            return;
        }

        (int bar, ulong o) = _bars[region];
        Transport.ReadBar(bar, o + offset, data);
    }

    /// <inheritdoc/>
    protected override void WriteRegister(string region, ulong offset, ReadOnlySpan<byte> data)
    {
        if (_config.TryGetValue(region, out int c))
        {
            Transport.WriteConfigSpace(c + (int)offset, data);
            return;
        }

        (int bar, ulong o) = _bars[region];
        Transport.WriteBar(bar, o + offset, data);
    }

    /// <inheritdoc/>
    protected override ulong ResolveRegion(ScriptValue value) =>
        value.Kind == ScriptValueKind.BarOf ? (ulong)_bars[value.Region!].Bar : _bars[value.Region!].Offset + value.Addend;

    /// <inheritdoc/>
    protected override void WalkCapabilities(string key)
    {
        // Mirrors dcaps in GuestScripts/differential.sh, field by field.
        int p = ConfigRead(0x34, 1) & 0xfc;
        var order = new List<string>();
        var seen = new HashSet<int>();
        for (int n = 0; p != 0 && n < 48; n++)
        {
            int id = ConfigRead(p, 1);
            if (id == 0x09)
            {
                int t = ConfigRead(p + 3, 1);
                order.Add("virtio" + t);
                if (seen.Add(t))
                {
                    string k = $"{key}.virtio{t}";
                    Record(k + ".cap_len", Hex((ulong)ConfigRead(p + 2, 1)));
                    Record(k + ".bar", Hex((ulong)ConfigRead(p + 4, 1)));
                    Record(k + ".id", Hex((ulong)ConfigRead(p + 5, 1)));
                    Record(k + ".offset", Hex((ulong)ConfigRead32(p + 8)));
                    Record(k + ".length", Hex((ulong)ConfigRead32(p + 12)));
                    if (t == 2)
                    {
                        Record(k + ".notify_off_multiplier", Hex((ulong)ConfigRead32(p + 16)));
                    }
                }
            }
            else if (id == 0x11)
            {
                order.Add("msix");
                uint tb = ConfigRead32(p + 4);
                uint pb = ConfigRead32(p + 8);
                Record($"{key}.msix.control", Hex((ulong)ConfigRead(p + 2, 2)));
                Record($"{key}.msix.table_bir", Hex(tb & 7));
                Record($"{key}.msix.table_offset", Hex(tb & ~7u));
                Record($"{key}.msix.pba_bir", Hex(pb & 7));
                Record($"{key}.msix.pba_offset", Hex(pb & ~7u));
            }
            else
            {
                order.Add($"cap{id:x2}");
            }

            p = ConfigRead(p + 1, 1) & 0xfc;
        }

        Record(key + ".order", string.Join(' ', order));
        Record(key + ".types", string.Join(' ', order.Distinct().Order(StringComparer.Ordinal)));
    }

    /// <inheritdoc/>
    protected override void SizeBar(string key, string region)
    {
        // Mirrors dbarsize: decoding off, all ones, read back, restore.
        int r = 0x10 + (4 * _bars[region].Bar);
        int cmd = ConfigRead(0x04, 2);
        ConfigWrite(0x04, 2, (ulong)(cmd & ~2));
        uint lo = ConfigRead32(r);
        ConfigWrite(r, 4, 0xffff_ffff);
        Record(key + ".low", Hex(ConfigRead32(r)));
        ConfigWrite(r, 4, lo);
        if ((lo & 6) == 4)
        {
            uint hi = ConfigRead32(r + 4);
            ConfigWrite(r + 4, 4, 0xffff_ffff);
            Record(key + ".high", Hex(ConfigRead32(r + 4)));
            ConfigWrite(r + 4, 4, hi);
        }

        ConfigWrite(0x04, 2, (ulong)cmd);
    }

    private void Discover()
    {
        // Mirrors dfind_pci: the first capability of each type wins.
        int p = ConfigRead(0x34, 1) & 0xfc;
        for (int n = 0; p != 0 && n < 48; n++)
        {
            int id = ConfigRead(p, 1);
            if (id == 0x09)
            {
                int t = ConfigRead(p + 3, 1);
                int b = ConfigRead(p + 4, 1);
                uint o = ConfigRead32(p + 8);
                string? region = t switch { 1 => "common", 2 => "notify", 3 => "isr", 4 => "device", _ => null };
                if (region is not null)
                {
                    _bars.TryAdd(region, (b, o));
                }
                else if (t == 5)
                {
                    _config.TryAdd(ScriptRegions.PciCfgCapability, p);
                }
            }
            else if (id == 0x11)
            {
                _config[ScriptRegions.MsixCapability] = p;
                uint tb = ConfigRead32(p + 4);
                uint pb = ConfigRead32(p + 8);
                _bars["msix"] = ((int)(tb & 7), tb & ~7u);
                _bars["pba"] = ((int)(pb & 7), pb & ~7u);
            }

            p = ConfigRead(p + 1, 1) & 0xfc;
        }

        foreach (string region in ScriptRegions.BarRegions)
        {
            if (!_bars.ContainsKey(region))
            {
                throw new InvalidOperationException($"our PCI function has no {region} structure in its capability list");
            }
        }

        if (!_config.ContainsKey(ScriptRegions.PciCfgCapability))
        {
            throw new InvalidOperationException("our PCI function has no VIRTIO_PCI_CAP_PCI_CFG capability");
        }
    }

    private uint ConfigRead32(int offset) => ConfigReadRaw(offset, 4);

    // 8- and 16-bit fields, as int for offset arithmetic.
    private int ConfigRead(int offset, int bytes) => bytes <= 2 ? (int)ConfigReadRaw(offset, bytes) : throw new ArgumentOutOfRangeException(nameof(bytes));

    private uint ConfigReadRaw(int offset, int bytes)
    {
        Span<byte> b = stackalloc byte[4];
        b.Clear();
        Transport.ReadConfigSpace(offset, b[..bytes]);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    private void ConfigWrite(int offset, int bytes, ulong value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, unchecked((uint)value));
        Transport.WriteConfigSpace(offset, b[..bytes]);
    }
}
