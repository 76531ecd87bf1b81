// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Internal;

/// <summary>
/// What <see cref="GpioLineBank"/> needs from its device to return a held eventq pair: the device owns the
/// queue, the bank only decides. Called with the device lock held.
/// </summary>
internal interface IHeldPairCompleter
{
    /// <summary>Whether held pairs can be completed now (eventq negotiated, ready and not broken). When
    /// <see langword="false"/> the device is suspended for the eventq and must not touch it (VHOST-USER.md §6.2).</summary>
    bool CanCompletePairs { get; }

    /// <summary>Writes <paramref name="status"/> (1 byte) at <paramref name="response"/>, re-translated now, and
    /// completes <paramref name="headIndex"/> on the eventq with used length 1 (STANDARD.md §8).</summary>
    /// <param name="lineNumber">The validated line the pair belongs to.</param>
    /// <param name="headIndex">The pair's head index.</param>
    /// <param name="response">Guest address of the pair's 1-byte response.</param>
    /// <param name="status">VALID or INVALID.</param>
    void CompletePair(int lineNumber, ushort headIndex, GuestAddress response, GpioIrqStatus status);
}
