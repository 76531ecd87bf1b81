// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// Receives level changes of host-driven (input or unconfigured) lines from a <see cref="GpioLineBackend"/>.
/// The device implements it and hands it to the backend through <see cref="GpioLineBackend.Attach(IGpioLineEventSink?)"/>;
/// the device derives edges and level interrupts (STANDARD.md §6) from these calls.
/// </summary>
/// <remarks>
/// <para>Calls may come from any thread, but a backend delivers them one at a time and, per backend, in the order
/// the changes happened, so per line they are in order. A backend never holds one of its own locks while calling,
/// so the sink may call back into the backend (for example <see cref="GpioLineBackend.Read(int)"/>).</para>
/// <para>Only real changes are reported (the new level differs from the previous one). Guest-driven changes of output
/// lines are not reported here.</para>
/// </remarks>
public interface IGpioLineEventSink
{
    /// <summary>The sensed level of <paramref name="lineNumber"/> changed to <paramref name="level"/>.</summary>
    /// <param name="lineNumber">The line, 0 .. <see cref="GpioLineBackend.LineCount"/> - 1.</param>
    /// <param name="level">The new level.</param>
    /// <param name="timestamp">When the change happened, from the backend's clock (the simulated backend uses its
    /// <see cref="TimeProvider"/>; a hardware backend uses the event's kernel timestamp converted to wall-clock time).
    /// Informational only: the device never makes decisions on it.</param>
    void OnLineLevelChanged(int lineNumber, LineValue level, DateTimeOffset timestamp);
}
