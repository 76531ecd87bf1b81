// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing;

/// <summary>
/// <c>struct virtio_gpio_config</c> as a driver read it (STANDARD.md §3): <c>le16 ngpio; u8
/// padding[2]; le32 gpio_names_size</c>.
/// </summary>
/// <param name="LineCount"><c>ngpio</c>. Linux fails probe when it is 0.</param>
/// <param name="Padding">The two padding bytes as one little-endian value (the device must set them to zero).</param>
/// <param name="NamesSize"><c>gpio_names_size</c>: bytes of the GET_LINE_NAMES block, 0 when names are not supported.</param>
public readonly record struct GpioConfigSnapshot(ushort LineCount, ushort Padding, uint NamesSize);
