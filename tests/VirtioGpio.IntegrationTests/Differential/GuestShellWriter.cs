// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Text;
using VirtioGpio.IntegrationTests.Infrastructure;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>
/// Turns register scripts into the guest's <c>/test.sh</c>: <c>GuestScripts/differential.sh</c> (helpers and device
/// discovery), then one shell line per operation. Every read prints <c>VGPIO-KV d:&lt;key&gt;=&lt;value&gt;</c>.
/// </summary>
public static class GuestShellWriter
{
    /// <summary>The marker prefix of a compared value.</summary>
    public const string ValuePrefix = "d:";

    /// <summary>Builds the whole guest script for <paramref name="scripts"/> (all of one transport), run in order.</summary>
    public static string Write(GuestTransport transport, IReadOnlyList<RegisterScript> scripts)
    {
        string helpers = File.ReadAllText(Path.Combine(GuestEnvironment.BaseDirectory, "GuestScripts", "differential.sh"));
        var sb = new StringBuilder(helpers);
        sb.Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"R_ram={DifferentialLayout.RamBase}\n");
        if (transport == GuestTransport.Pci)
        {
            sb.Append(CultureInfo.InvariantCulture, $"dfind_pci {DifferentialLayout.PciDeviceId}\n");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"dfind_mmio {DifferentialLayout.MmioSlotBase} {DifferentialLayout.MmioSlotStride} {DifferentialLayout.MmioSlotCount}\n");
        }

        foreach (RegisterScript script in scripts)
        {
            if (script.Transport != transport)
            {
                throw new ArgumentException($"script {script.Name} is not a {transport} script", nameof(scripts));
            }

            sb.Append(CultureInfo.InvariantCulture, $"dinfo script '{script.Name}'\n");
            foreach (ScriptOp op in script.Ops)
            {
                sb.Append(Line(script, op)).Append('\n');
            }
        }

        sb.Append("dinfo finished yes\n");
        return sb.ToString();
    }

    private static string Line(RegisterScript script, ScriptOp op)
    {
        string key = "'" + op.Key(script.Name) + "'";
        bool config = ScriptRegions.IsConfigRegion(op.Region);
        string address = config
            ? $"$((C_{op.Region} + 0x{op.Offset:x}))"
            : $"$((R_{op.Region} + 0x{op.Offset:x}))";
        string size = config ? (op.Width / 8).ToString(CultureInfo.InvariantCulture) : op.Width.ToString(CultureInfo.InvariantCulture);
        string comment = "  # " + op.Text;
        return op.Kind switch
        {
            ScriptOpKind.Read => config
                ? $"kc {key} {address} {size}{comment}"
                : $"kr {key} {address} {size}{comment}",
            ScriptOpKind.Write => config
                ? $"cw {address} {size} {Value(op.Value)}{comment}"
                : $"mw {address} {size} {Value(op.Value)}{comment}",
            ScriptOpKind.Poll => config
                ? $"cpoll {key} {address} {size} {Value(op.Value)}{comment}"
                : $"mpoll {key} {address} {size} {Value(op.Value)}{comment}",
            ScriptOpKind.Capabilities => $"dcaps {key}{comment}",
            ScriptOpKind.BarSize => $"dbarsize {key} $B_{op.Region}{comment}",
            ScriptOpKind.Settle => $"settle {op.Offset}{comment}",
            _ => throw new InvalidOperationException(op.Kind.ToString()),
        };
    }

    private static string Value(ScriptValue v) => v.Kind switch
    {
        ScriptValueKind.Literal => $"0x{v.Addend:x}",
        ScriptValueKind.Ram => $"$((R_ram + 0x{v.Addend:x}))",
        ScriptValueKind.BarOf => $"$B_{v.Region}",
        _ => $"$((O_{v.Region} + 0x{v.Addend:x}))",
    };
}
