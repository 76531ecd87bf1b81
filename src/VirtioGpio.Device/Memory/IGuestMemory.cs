// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Memory;

/// <summary>
/// The device's (consumer-side) view of guest memory. Every byte behind it is controlled by an
/// untrusted guest: implementations bounds- and overflow-check every access and either complete
/// it entirely or fail with a <see cref="GuestMemoryError"/>; they never throw for a guest-supplied
/// address or length.
/// </summary>
/// <remarks>
/// <para>Copy, then validate: callers read a structure once into local storage and make every
/// decision on that copy, because the guest may change memory concurrently.</para>
/// <para>Implementations must be safe to call from several threads at once (the memory itself
/// is shared with the guest; the device serialises its own queue accesses).</para>
/// </remarks>
public interface IGuestMemory
{
    /// <summary>
    /// Translates <c>[address, address + length)</c> into one contiguous host span. Fails with
    /// <see cref="GuestMemoryError.CrossesRegionBoundary"/> when the range is not inside one region.
    /// </summary>
    /// <param name="address">Start of the guest range.</param>
    /// <param name="length">Length in bytes; 0 is allowed and yields an empty span.</param>
    /// <param name="access">What the caller will do with the span.</param>
    /// <param name="span">The host view of the range; valid until the memory map changes. Never keep it beyond the current operation.</param>
    /// <returns><see cref="GuestMemoryError.None"/> on success.</returns>
    GuestMemoryError TryGetSpan(GuestAddress address, int length, GuestMemoryAccess access, out Span<byte> span);

    /// <summary>Copies guest bytes into <paramref name="destination"/>. Ranges that cross adjacent regions are stitched.</summary>
    /// <param name="address">Start of the guest range.</param>
    /// <param name="destination">Receives <c>destination.Length</c> bytes.</param>
    /// <returns><see cref="GuestMemoryError.None"/> when every byte was copied; otherwise nothing is guaranteed about <paramref name="destination"/>.</returns>
    GuestMemoryError TryRead(GuestAddress address, Span<byte> destination);

    /// <summary>Copies <paramref name="source"/> into guest memory. The whole range is checked before any byte is written.</summary>
    /// <param name="address">Start of the guest range.</param>
    /// <param name="source">Bytes to write.</param>
    /// <returns><see cref="GuestMemoryError.None"/> when every byte was written; on failure nothing was written.</returns>
    GuestMemoryError TryWrite(GuestAddress address, ReadOnlySpan<byte> source);

    /// <summary>Loads a little-endian 16-bit ring index with acquire semantics (VIRTIO 1.3 §2.7.13 "Supplying Buffers to The Device").</summary>
    /// <param name="address">A 2-byte aligned guest address.</param>
    /// <param name="value">The loaded value.</param>
    /// <returns><see cref="GuestMemoryError.None"/> on success.</returns>
    GuestMemoryError TryLoadAcquireUInt16(GuestAddress address, out ushort value);

    /// <summary>Stores a little-endian 16-bit ring index with release semantics, so every earlier write is visible first (VIRTIO 1.3 §2.7.8 "The Virtqueue Used Ring").</summary>
    /// <param name="address">A 2-byte aligned guest address.</param>
    /// <param name="value">The value to publish.</param>
    /// <returns><see cref="GuestMemoryError.None"/> on success.</returns>
    GuestMemoryError TryStoreReleaseUInt16(GuestAddress address, ushort value);
}
