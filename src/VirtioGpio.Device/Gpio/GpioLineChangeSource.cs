// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>Who caused a <see cref="GpioLineChange"/>.</summary>
public enum GpioLineChangeSource : byte
{
    /// <summary>The guest, through the device (direction, output value, IRQ type).</summary>
    Guest = 0,

    /// <summary>The host side: a test, tool or simulation setting an input level.</summary>
    Host = 1,
}
