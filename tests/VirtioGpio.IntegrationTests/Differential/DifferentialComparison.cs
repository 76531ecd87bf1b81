// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Text;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>
/// Compares, value by value, what the guest read from QEMU's transport with what the in-process replay read from
/// ours. A difference passes only when an allow-list entry names it with exactly these two values.
/// </summary>
public sealed class DifferentialComparison
{
    private readonly List<string> _failures = [];
    private readonly StringBuilder _table = new();

    private DifferentialComparison() { }

    /// <summary>Values compared.</summary>
    public int Compared { get; private set; }

    /// <summary>Values equal on both sides.</summary>
    public int Equal { get; private set; }

    /// <summary>Values that differ as an allow-list entry says.</summary>
    public int KnownDifferences { get; private set; }

    /// <summary>Everything that makes the test fail: new differences, missing values, stale allow-list entries.</summary>
    public IReadOnlyList<string> Failures => _failures;

    /// <summary>Every compared value, one line each (for the test output).</summary>
    public string Table => _table.ToString();

    /// <summary>Normalises a read value: numbers to lower-case hexadecimal without leading zeros, text trimmed.</summary>
    public static string Normalize(string? value)
    {
        // The guest prints configuration-space reads as "0x 0010" (printf, then od): blanks inside a number carry no
        // meaning.
        string v = (value ?? "").Trim();
        string packed = string.Concat(v.Where(c => !char.IsWhiteSpace(c)));
        if (packed.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && ulong.TryParse(packed.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong h))
        {
            return TransportReplayer.Hex(h);
        }

        if (v.Length > 0 && v.All(char.IsAsciiDigit) && ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out ulong d))
        {
            return TransportReplayer.Hex(d);
        }

        return v;
    }

    /// <summary>Compares every value of <paramref name="scripts"/>.</summary>
    /// <param name="scripts">The scripts that ran (on both sides, in this order).</param>
    /// <param name="qemu">The guest's values, keys without the <c>d:</c> prefix.</param>
    /// <param name="ours">The in-process replay's values.</param>
    /// <param name="allowed">Known differences of this transport.</param>
    public static DifferentialComparison Compare(IReadOnlyList<RegisterScript> scripts, IReadOnlyDictionary<string, string> qemu,
        IReadOnlyDictionary<string, string> ours, IReadOnlyList<QemuDifference> allowed)
    {
        var c = new DifferentialComparison();
        var allowByKey = new Dictionary<string, QemuDifference>(StringComparer.Ordinal);
        foreach (QemuDifference d in allowed)
        {
            if (!allowByKey.TryAdd(d.Key, d))
            {
                c._failures.Add($"allow-list: '{d.Key}' listed twice");
            }
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (RegisterScript script in scripts)
        {
            foreach (ScriptOp op in script.Ops.Where(o => o.ProducesValues))
            {
                string key = op.Key(script.Name);
                string[] keys = ours.Keys.Concat(qemu.Keys)
                    .Where(k => k == key || k.StartsWith(key + ".", StringComparison.Ordinal))
                    .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
                if (keys.Length == 0)
                {
                    c._failures.Add($"{Where(script, op)}: neither side produced a value");
                    continue;
                }

                foreach (string k in keys)
                {
                    seen.Add(k);
                    string part = k[key.Length..];
                    string? allowKey = op.Label is null ? null : $"{script.Name}:{op.Label}{part}";
                    c.CompareOne(script, op, part, qemu.GetValueOrDefault(k), ours.GetValueOrDefault(k), allowKey, allowByKey, used);
                }
            }
        }

        foreach (string extra in qemu.Keys.Concat(ours.Keys).Where(k => !seen.Contains(k)).Distinct(StringComparer.Ordinal))
        {
            c._failures.Add($"value '{extra}' belongs to no operation of the scripts");
        }

        foreach (QemuDifference d in allowed.Where(d => !used.Contains(d.Key)))
        {
            c._failures.Add($"allow-list: '{d.Key}' matches no compared value (renamed label or removed operation?)");
        }

        return c;
    }

    private void CompareOne(RegisterScript script, ScriptOp op, string part, string? qemuRaw, string? oursRaw, string? allowKey,
        Dictionary<string, QemuDifference> allowByKey, HashSet<string> used)
    {
        Compared++;
        string where = Where(script, op) + part;
        string q = qemuRaw is null ? "(missing)" : Normalize(qemuRaw);
        string o = oursRaw is null ? "(missing)" : Normalize(oursRaw);
        QemuDifference? known = allowKey is not null && allowByKey.TryGetValue(allowKey, out QemuDifference? d) ? d : null;
        if (known is not null)
        {
            used.Add(known.Key);
        }

        if ((qemuRaw is null || oursRaw is null) && known is null)
        {
            _failures.Add($"{where}: {(qemuRaw is null ? "the guest did not report it" : "the in-process replay did not produce it")} (QEMU {q}, ours {o})");
            _table.AppendLine(CultureInfo.InvariantCulture, $"MISSING  {where}: QEMU {q}, ours {o}");
            return;
        }

        if (known is null)
        {
            if (q == o)
            {
                Equal++;
                _table.AppendLine(CultureInfo.InvariantCulture, $"same     {where}: {q}");
            }
            else
            {
                _failures.Add($"{where}: QEMU reads {q}, ours {o} — a new difference (fix our transport, or allow-list it with a reason if QEMU deviates from the spec)");
                _table.AppendLine(CultureInfo.InvariantCulture, $"DIFFERS  {where}: QEMU {q}, ours {o}");
            }

            return;
        }

        if (q == Normalize(known.Qemu) && o == Normalize(known.Ours))
        {
            KnownDifferences++;
            _table.AppendLine(CultureInfo.InvariantCulture, $"known    {where}: QEMU {q}, ours {o} — {known.Reason}");
            return;
        }

        _failures.Add(q == o
            ? $"{where}: allow-listed as QEMU {known.Qemu} / ours {known.Ours}, but both now read {q}: remove the entry"
            : $"{where}: allow-listed as QEMU {known.Qemu} / ours {known.Ours}, but now QEMU {q} / ours {o}");
        _table.AppendLine(CultureInfo.InvariantCulture, $"CHANGED  {where}: QEMU {q}, ours {o} (allow-list: QEMU {known.Qemu}, ours {known.Ours})");
    }

    private static string Where(RegisterScript script, ScriptOp op) =>
        $"{script.Name}#{op.Index.ToString(CultureInfo.InvariantCulture)}{(op.Label is null ? "" : " [" + op.Label + "]")} '{op.Text}' (line {op.LineNumber.ToString(CultureInfo.InvariantCulture)})";
}
