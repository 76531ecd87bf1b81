// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// Edge kinds of a line, mirroring <c>System.Device.Gpio.PinEventTypes</c>.
/// <see cref="Rising"/> and <see cref="Falling"/> equal <see cref="GpioIrqType.EdgeRising"/> and <see cref="GpioIrqType.EdgeFalling"/>.
/// </summary>
[Flags]
public enum LineEventTypes
{
    /// <summary>No edge.</summary>
    None = 0,

    /// <summary>Low-to-high transition.</summary>
    Rising = 1,

    /// <summary>High-to-low transition.</summary>
    Falling = 2,
}
