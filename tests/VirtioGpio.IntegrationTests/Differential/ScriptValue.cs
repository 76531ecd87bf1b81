// SPDX-License-Identifier: MIT
using System.Globalization;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>
/// The value operand of a write or poll: a literal, or a quantity that differs between QEMU and our transport
/// (a RAM address, a BAR index or offset found by the capability walk) and is resolved on each side.
/// </summary>
public readonly record struct ScriptValue(ScriptValueKind Kind, ulong Addend, string? Region)
{
    /// <summary>A literal.</summary>
    public static ScriptValue Literal(ulong value) => new(ScriptValueKind.Literal, value, null);

    /// <summary>Parses <c>0x10</c>, <c>16</c>, <c>ram</c>, <c>ram+0x400</c>, <c>bar:common</c>, <c>off:common+0x12</c>.</summary>
    public static bool TryParse(string text, out ScriptValue value)
    {
        value = default;
        if (text.StartsWith("ram", StringComparison.Ordinal))
        {
            string rest = text[3..];
            if (rest.Length == 0)
            {
                value = new ScriptValue(ScriptValueKind.Ram, 0, null);
                return true;
            }

            if (rest[0] == '+' && TryParseNumber(rest[1..], out ulong n))
            {
                value = new ScriptValue(ScriptValueKind.Ram, n, null);
                return true;
            }

            return false;
        }

        if (text.StartsWith("bar:", StringComparison.Ordinal))
        {
            string region = text[4..];
            if (!ScriptRegions.IsBarRegion(region))
            {
                return false;
            }

            value = new ScriptValue(ScriptValueKind.BarOf, 0, region);
            return true;
        }

        if (text.StartsWith("off:", StringComparison.Ordinal))
        {
            string rest = text[4..];
            int plus = rest.IndexOf('+', StringComparison.Ordinal);
            string region = plus < 0 ? rest : rest[..plus];
            ulong n = 0;
            if (!ScriptRegions.IsBarRegion(region) || (plus >= 0 && !TryParseNumber(rest[(plus + 1)..], out n)))
            {
                return false;
            }

            value = new ScriptValue(ScriptValueKind.OffsetOf, n, region);
            return true;
        }

        if (TryParseNumber(text, out ulong literal))
        {
            value = Literal(literal);
            return true;
        }

        return false;
    }

    /// <summary>Parses a decimal or <c>0x</c> hexadecimal number.</summary>
    public static bool TryParseNumber(string text, out ulong value) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        ScriptValueKind.Literal => $"0x{Addend:x}",
        ScriptValueKind.Ram => $"ram+0x{Addend:x}",
        ScriptValueKind.BarOf => $"bar:{Region}",
        _ => $"off:{Region}+0x{Addend:x}",
    };
}
