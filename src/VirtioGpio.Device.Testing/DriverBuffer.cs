// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Testing;

/// <summary>One buffer of a descriptor chain as the driver describes it: a guest range and whether the device may write it.</summary>
public readonly struct DriverBuffer
{
    /// <summary>Describes a buffer.</summary>
    /// <param name="address">Guest address of the buffer.</param>
    /// <param name="length">Length in bytes (becomes the descriptor's <c>len</c>).</param>
    /// <param name="isDeviceWritable">Whether the descriptor gets VIRTQ_DESC_F_WRITE.</param>
    public DriverBuffer(GuestAddress address, uint length, bool isDeviceWritable)
    {
        Address = address;
        Length = length;
        IsDeviceWritable = isDeviceWritable;
    }

    /// <summary>Guest address of the buffer.</summary>
    public GuestAddress Address { get; }

    /// <summary>Length in bytes.</summary>
    public uint Length { get; }

    /// <summary>Whether the device may write it (VIRTQ_DESC_F_WRITE).</summary>
    public bool IsDeviceWritable { get; }

    /// <summary>The buffer's guest range.</summary>
    public GuestRange Range => new(Address, Length);

    /// <summary>A device-readable buffer.</summary>
    /// <param name="address">Guest address.</param>
    /// <param name="length">Length in bytes.</param>
    /// <returns>The buffer.</returns>
    public static DriverBuffer Readable(GuestAddress address, uint length) => new(address, length, false);

    /// <summary>A device-writable buffer.</summary>
    /// <param name="address">Guest address.</param>
    /// <param name="length">Length in bytes.</param>
    /// <returns>The buffer.</returns>
    public static DriverBuffer Writable(GuestAddress address, uint length) => new(address, length, true);

    /// <inheritdoc/>
    public override string ToString() => (IsDeviceWritable ? "W" : "R") + Range;
}
