// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Internal;

/// <summary>What to do with an eventq pair that just arrived (STANDARD.md §6.2, "eventq pair arrives").</summary>
internal enum PairOutcome : byte
{
    /// <summary>The bank keeps it (the line is unmasked) until it fires, is disabled or the device resets.</summary>
    Held = 0,

    /// <summary>Return it at once with status VALID (latched edge or active level, S7).</summary>
    CompleteValid,

    /// <summary>Return it at once with status INVALID (duplicate pair R12, or strict S4).</summary>
    CompleteInvalid,
}
