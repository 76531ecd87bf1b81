// SPDX-License-Identifier: MIT
using System.Globalization;
using VirtioGpio.IntegrationTests.Infrastructure;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>
/// A register-access script (<c>Differential/Scripts/*.txt</c>), replayed once against QEMU's own transport in a real
/// guest (through <c>devmem</c> and sysfs) and once against ours in-process; every value read is compared.
/// </summary>
/// <remarks>
/// <para>Format, one operation per line, <c>#</c> starts a comment:</para>
/// <code>
/// [label:] r8|r16|r32|r64 [REGION] OFFSET            read; the value is compared
/// [label:] w8|w16|w32|w64 [REGION] OFFSET VALUE      write
/// [label:] poll8|poll16|poll32 [REGION] OFFSET VALUE  read until equal (asynchronous effects)
/// [label:] caps                                      PCI capability walk
/// [label:] barsize REGION                            PCI BAR sizing
/// settle MS                                          the guest waits (asynchronous effects)
/// </code>
/// <para>REGION defaults to <c>mmio</c> in <c>mmio-*.txt</c> scripts and must be given in <c>pci-*.txt</c> ones
/// (<see cref="ScriptRegions"/>). VALUE is a number, <c>ram+N</c>, <c>bar:REGION</c> or <c>off:REGION+N</c>
/// (<see cref="ScriptValue"/>).</para>
/// </remarks>
public sealed class RegisterScript
{
    private RegisterScript(string name, GuestTransport transport, IReadOnlyList<ScriptOp> ops)
    {
        Name = name;
        Transport = transport;
        Ops = ops;
    }

    /// <summary>The file name without extension; prefixes every result key.</summary>
    public string Name { get; }

    /// <summary>The transport, from the file name (<c>mmio-</c> or <c>pci-</c>).</summary>
    public GuestTransport Transport { get; }

    /// <summary>The operations in order.</summary>
    public IReadOnlyList<ScriptOp> Ops { get; }

    /// <summary>Directory of the scripts next to the test assembly.</summary>
    public static string Directory => Path.Combine(GuestEnvironment.BaseDirectory, "Differential", "Scripts");

    /// <summary>All scripts for <paramref name="transport"/>, in file-name order (the order they run in).</summary>
    public static IReadOnlyList<RegisterScript> LoadAll(GuestTransport transport)
    {
        string prefix = transport == GuestTransport.Pci ? "pci-" : "mmio-";
        return System.IO.Directory.GetFiles(Directory, prefix + "*.txt")
            .Order(StringComparer.Ordinal)
            .Select(f => Parse(Path.GetFileNameWithoutExtension(f), File.ReadAllText(f)))
            .ToArray();
    }

    /// <summary>Parses a script; throws <see cref="FormatException"/> naming the line on any error.</summary>
    public static RegisterScript Parse(string name, string text)
    {
        GuestTransport transport = name.StartsWith("pci-", StringComparison.Ordinal) ? GuestTransport.Pci
            : name.StartsWith("mmio-", StringComparison.Ordinal) ? GuestTransport.Mmio
            : throw new FormatException($"script '{name}': the name must start with 'mmio-' or 'pci-'");
        bool pci = transport == GuestTransport.Pci;
        var ops = new List<ScriptOp>();
        var labels = new HashSet<string>(StringComparer.Ordinal);
        string[] lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n];
            int hash = line.IndexOf('#', StringComparison.Ordinal);
            string code = (hash < 0 ? line : line[..hash]).Trim();
            if (code.Length == 0)
            {
                continue;
            }

            string where = $"{name}.txt:{n + 1}";
            string? label = null;
            int colon = code.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && !code[..colon].Contains(' ', StringComparison.Ordinal) && IsLabel(code[..colon]))
            {
                label = code[..colon];
                code = code[(colon + 1)..].Trim();
                if (!labels.Add(label))
                {
                    throw new FormatException($"{where}: label '{label}' used twice");
                }
            }

            string[] t = code.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            ops.Add(ParseOp(ops.Count + 1, n + 1, label, t, code, pci, where));
        }

        return new RegisterScript(name, transport, ops);
    }

    private static bool IsLabel(string s) => s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static ScriptOp ParseOp(int index, int lineNumber, string? label, string[] t, string text, bool pci, string where)
    {
        string mnemonic = t[0];
        if (mnemonic == "caps")
        {
            Require(pci && t.Length == 1, where, "'caps' takes no operands and exists only in PCI scripts");
            return new ScriptOp(index, lineNumber, label, ScriptOpKind.Capabilities, 0, ScriptRegions.Config, 0, default, text);
        }

        if (mnemonic == "settle")
        {
            ulong ms = 0;
            Require(t.Length == 2 && ScriptValue.TryParseNumber(t[1], out ms) && ms is > 0 and <= 10_000, where, "'settle MS' needs 1..10000 milliseconds");
            return new ScriptOp(index, lineNumber, label, ScriptOpKind.Settle, 0, pci ? ScriptRegions.Config : ScriptRegions.Mmio, ms, default, text);
        }

        if (mnemonic == "barsize")
        {
            Require(pci && t.Length == 2 && ScriptRegions.IsBarRegion(t[1]), where, "'barsize REGION' needs a BAR region (PCI only)");
            return new ScriptOp(index, lineNumber, label, ScriptOpKind.BarSize, 0, t[1], 0, default, text);
        }

        (ScriptOpKind kind, string widthText) = mnemonic switch
        {
            _ when mnemonic.StartsWith("poll", StringComparison.Ordinal) => (ScriptOpKind.Poll, mnemonic[4..]),
            _ when mnemonic.StartsWith('r') => (ScriptOpKind.Read, mnemonic[1..]),
            _ when mnemonic.StartsWith('w') => (ScriptOpKind.Write, mnemonic[1..]),
            _ => throw new FormatException($"{where}: unknown operation '{mnemonic}'"),
        };
        Require(int.TryParse(widthText, NumberStyles.None, CultureInfo.InvariantCulture, out int width) && width is 8 or 16 or 32 or 64,
            where, $"bad width in '{mnemonic}'");
        int at = 1;
        string region = pci ? "" : ScriptRegions.Mmio;
        if (t.Length > at && !char.IsAsciiDigit(t[at][0]))
        {
            region = t[at++];
        }

        Require(region.Length > 0, where, "PCI operations name their region (cfg, msixcap, pcicfgcap, common, notify, isr, device, msix, pba, ram)");
        Require(ScriptRegions.IsValid(region, pci), where, $"region '{region}' is not valid in a {(pci ? "PCI" : "MMIO")} script");
        Require(!(ScriptRegions.IsConfigRegion(region) && width == 64), where, "configuration space accesses are 8, 16 or 32 bits");
        ulong offset = 0;
        Require(t.Length > at && ScriptValue.TryParseNumber(t[at], out offset), where, "missing or bad offset");
        at++;
        ScriptValue value = default;
        if (kind is ScriptOpKind.Write or ScriptOpKind.Poll)
        {
            Require(t.Length > at && ScriptValue.TryParse(t[at], out value), where, "missing or bad value");
            at++;
        }

        Require(kind != ScriptOpKind.Poll || width <= 32, where, "poll is 8, 16 or 32 bits");
        Require(t.Length == at, where, "too many operands");
        return new ScriptOp(index, lineNumber, label, kind, width, region, offset, value, text);
    }

    private static void Require(bool condition, string where, string message)
    {
        if (!condition)
        {
            throw new FormatException($"{where}: {message}");
        }
    }
}
