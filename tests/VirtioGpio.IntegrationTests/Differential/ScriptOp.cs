// SPDX-License-Identifier: MIT
using System.Globalization;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>One operation of a <see cref="RegisterScript"/>.</summary>
/// <param name="Index">1-based position among the script's operations; part of every result key.</param>
/// <param name="LineNumber">Line in the script file (for messages).</param>
/// <param name="Label">Optional name (<c>label: r32 0x0</c>) that allow-list entries refer to.</param>
/// <param name="Kind">What the operation does.</param>
/// <param name="Width">Access width in bits (8, 16, 32, 64); 0 for <c>caps</c> and <c>barsize</c>.</param>
/// <param name="Region">Address space (<see cref="ScriptRegions"/>).</param>
/// <param name="Offset">Offset inside the region (milliseconds for <c>settle</c>).</param>
/// <param name="Value">Written value, or the value a poll waits for.</param>
/// <param name="Text">The operation as written, without comment.</param>
public sealed record ScriptOp(int Index, int LineNumber, string? Label, ScriptOpKind Kind, int Width, string Region, ulong Offset, ScriptValue Value, string Text)
{
    /// <summary>Whether the operation produces compared values.</summary>
    public bool ProducesValues => Kind is not (ScriptOpKind.Write or ScriptOpKind.Settle);

    /// <summary>The result key of this operation in <paramref name="script"/>: <c>script#index</c>.</summary>
    public string Key(string script) => script + "#" + Index.ToString(CultureInfo.InvariantCulture);
}
