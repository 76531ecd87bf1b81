// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// The direction of a line as the standard protocol encodes it (STANDARD.md §4.3). Values equal
/// the spec constants. Parse guest values with <see cref="GpioCodec.TryParseDirection(uint, out GpioDirection)"/>,
/// which accepts exactly {0, 1, 2} (no truncation: 0x101 is not "out").
/// </summary>
/// <remarks>The draft protocol (device ID 30) encodes directions differently (0 = output, 1 = input); see
/// <c>VirtioGpio.Device.Gpio.Draft</c>.</remarks>
public enum GpioDirection : byte
{
    /// <summary>Not configured: the line is neither driven nor sensed for the guest.</summary>
    /// <remarks><c>VIRTIO_GPIO_DIRECTION_NONE</c> (0x00).</remarks>
    None = 0x00,

    /// <summary>Output: the guest drives the line.</summary>
    /// <remarks><c>VIRTIO_GPIO_DIRECTION_OUT</c> (0x01).</remarks>
    Output = 0x01,

    /// <summary>Input: the guest senses the line.</summary>
    /// <remarks><c>VIRTIO_GPIO_DIRECTION_IN</c> (0x02).</remarks>
    Input = 0x02,
}
