// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Device.Internal;

/// <summary>
/// The answer of one requestq line operation in one register: the status byte, the value byte and why it failed.
/// <see cref="WireResponse"/> is <c>virtio_gpio_response</c> (u8 status; u8 value, VIRTIO 1.3 §5.18.6 "Device Operation:
/// requestq"), and a failure carries value 0 by construction (D1: "the value byte(s)
/// are zero" on ERR).
/// </summary>
internal readonly struct LineResult
{
    private readonly uint _bits;

    private LineResult(uint bits) => _bits = bits;

    /// <summary>OK, with no value (SET_* requests).</summary>
    public static LineResult Ok => default;

    /// <summary>The status: <see cref="GpioStatus.Ok"/> or <see cref="GpioStatus.Err"/>.</summary>
    public GpioStatus Status => (GpioStatus)(byte)_bits;

    /// <summary>The value byte of the response (0 on failure).</summary>
    public byte Value => (byte)(_bits >> 8);

    /// <summary>Why the operation failed (<see cref="RejectReason.None"/> on success); log and metric tag only.</summary>
    public RejectReason Reason => (RejectReason)(byte)(_bits >> 16);

    /// <summary>Whether the status is <see cref="GpioStatus.Ok"/>.</summary>
    public bool IsOk => (byte)_bits == (byte)GpioStatus.Ok;

    /// <summary>The 2-byte response in memory order (status first, then value) as one 16-bit word to store as is.</summary>
    public ushort WireResponse => BitConverter.IsLittleEndian ? (ushort)_bits : BinaryPrimitives.ReverseEndianness((ushort)_bits);

    /// <summary>OK with a value byte (GET_* requests).</summary>
    /// <param name="value">The value byte.</param>
    /// <returns>The result.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LineResult WithValue(byte value) => new((uint)value << 8);

    /// <summary>ERR, value 0.</summary>
    /// <param name="reason">Why.</param>
    /// <returns>The result.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LineResult Error(RejectReason reason) => new((uint)GpioStatus.Err | ((uint)reason << 16));
}
