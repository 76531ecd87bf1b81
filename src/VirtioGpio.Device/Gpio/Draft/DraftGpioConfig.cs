// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace VirtioGpio.Device.Gpio.Draft;

/// <summary>
/// The draft device's configuration space (DRAFT.md §2.1): a 64-byte header — <c>u8 version = 1</c> at 0x00,
/// <c>le16 num_gpios</c> at 0x02, <c>le32 names_size</c> at 0x04, <c>name[32]</c> (NUL-padded chip label) at 0x20 —
/// followed by the names block at 0x40. Built once, immutable; reads are clamped and zero-filled.
/// </summary>
/// <remarks>
/// <para>Validation at <see cref="Create"/> (host input; violations throw <see cref="ArgumentException"/>):
/// 1 ≤ <c>num_gpios</c> ≤ 256 (DRAFT.md B13), at most <c>num_gpios</c> line names (7-bit ASCII, unique when non-empty;
/// fewer names leave the remaining lines unnamed, DRAFT.md §2.4), chip name 7-bit ASCII without NUL and at most 32
/// bytes, and <c>0x40 + names_size</c> ≤ the transport's maximum config size (256 under QEMU vhost-user, DRAFT.md §2.3).</para>
/// <para><c>names_size</c> is padded with pairs of NUL bytes away from the values the
/// <see cref="DraftNamesSizePolicy"/> forbids (DRAFT.md §2.5); the extra NULs only add unnamed entries.</para>
/// </remarks>
public sealed class DraftGpioConfig
{
    /// <summary>The only supported <c>version</c>.</summary>
    public const byte Version = 1;

    /// <summary>Size of the fixed header; the names block starts here.</summary>
    public const int HeaderSize = 0x40;

    /// <summary>Offset of <c>name[32]</c>.</summary>
    public const int ChipNameOffset = 0x20;

    /// <summary>Length of <c>name</c>.</summary>
    public const int ChipNameLength = 32;

    /// <summary>The largest <c>num_gpios</c> (the driver's IRQ bitmap has 256 bits, DRAFT.md B13).</summary>
    public const int MaxLineCount = 256;

    /// <summary>The config-size limit of QEMU's vhost-user path (DRAFT.md §2.3).</summary>
    public const int VhostUserMaxConfigSize = 256;

    private const int MaxPaddingRounds = 64;

    private readonly byte[] _bytes;

    private DraftGpioConfig(byte[] bytes, int lineCount, uint namesSize, uint unpaddedNamesSize, string chipName, GpioLineNames names)
    {
        _bytes = bytes;
        LineCount = lineCount;
        NamesSize = namesSize;
        UnpaddedNamesSize = unpaddedNamesSize;
        ChipName = chipName;
        LineNames = names;
    }

    /// <summary><c>num_gpios</c>.</summary>
    public int LineCount { get; }

    /// <summary><c>names_size</c> after padding.</summary>
    public uint NamesSize { get; }

    /// <summary>The names block size before padding (Σ(len + 1) over the given names).</summary>
    public uint UnpaddedNamesSize { get; }

    /// <summary>The chip label.</summary>
    public string ChipName { get; }

    /// <summary>The validated line names (possibly fewer than <see cref="LineCount"/>).</summary>
    public GpioLineNames LineNames { get; }

    /// <summary>Total config size: <c>0x40 + names_size</c>.</summary>
    public int Size => _bytes.Length;

    /// <summary>The whole configuration image.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Builds and validates a configuration.</summary>
    /// <param name="lineCount"><c>num_gpios</c>, 1..256.</param>
    /// <param name="chipName">The chip label (empty: the driver uses the device name).</param>
    /// <param name="lineNames">Line names in line order, at most <paramref name="lineCount"/>; empty or <see langword="null"/> entries are unnamed; an empty list gives <c>names_size = 0</c>.</param>
    /// <param name="namesSizePolicy">Forbidden <c>names_size</c> values; <see cref="DraftNamesSizePolicy.LinuxX8664v61"/> when <see langword="null"/>.</param>
    /// <param name="maxConfigSize">The transport's config-size limit (<see cref="VhostUserMaxConfigSize"/> under vhost-user).</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="chipName"/> or <paramref name="lineNames"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineCount"/> is out of range.</exception>
    /// <exception cref="ArgumentException">A name is invalid, there are too many names, or the config exceeds <paramref name="maxConfigSize"/>.</exception>
    public static DraftGpioConfig Create(int lineCount, string chipName, IReadOnlyList<string?> lineNames, DraftNamesSizePolicy? namesSizePolicy = null, int maxConfigSize = VhostUserMaxConfigSize)
    {
        if (chipName is null)
        {
            throw new ArgumentNullException(nameof(chipName));
        }

        if (lineNames is null)
        {
            throw new ArgumentNullException(nameof(lineNames));
        }

        if (lineCount < 1 || lineCount > MaxLineCount)
        {
            throw new ArgumentOutOfRangeException(nameof(lineCount), lineCount, $"num_gpios must be 1..{MaxLineCount} (DRAFT.md §2.1, B13).");
        }

        if (lineNames.Count > lineCount)
        {
            throw new ArgumentException($"{lineNames.Count} line names for {lineCount} lines.", nameof(lineNames));
        }

        if (chipName.Length > ChipNameLength)
        {
            throw new ArgumentException($"The chip name is longer than {ChipNameLength} bytes.", nameof(chipName));
        }

        foreach (char c in chipName)
        {
            if (c == '\0' || c >= 0x80)
            {
                throw new ArgumentException("The chip name must be 7-bit ASCII without NUL.", nameof(chipName));
            }
        }

        DraftNamesSizePolicy policy = namesSizePolicy ?? DraftNamesSizePolicy.LinuxX8664v61;
        var names = new GpioLineNames(lineNames);
        uint unpadded = names.BlockSize;
        uint namesSize = PadNamesSize(unpadded, policy);
        long size = HeaderSize + (long)namesSize;
        if (size > maxConfigSize)
        {
            throw new ArgumentException(
                $"The config needs 0x40 + {namesSize} = {size} bytes, above the transport maximum {maxConfigSize} (DRAFT.md §2.3).",
                nameof(lineNames));
        }

        byte[] bytes = new byte[size];
        bytes[0] = Version;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), (ushort)lineCount);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), namesSize);
        for (int i = 0; i < chipName.Length; i++)
        {
            bytes[ChipNameOffset + i] = (byte)chipName[i];
        }

        names.Block.CopyTo(bytes.AsSpan(HeaderSize)); // padding bytes stay 0
        return new DraftGpioConfig(bytes, lineCount, namesSize, unpadded, chipName, names);
    }

    /// <summary>Pads <paramref name="namesSize"/> by pairs of NUL bytes until <paramref name="policy"/> allows it (DRAFT.md §2.5).</summary>
    /// <param name="namesSize">The natural block size.</param>
    /// <param name="policy">The policy.</param>
    /// <returns>The padded size (equal when allowed).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="policy"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">No allowed size within 128 extra bytes.</exception>
    public static uint PadNamesSize(uint namesSize, DraftNamesSizePolicy policy)
    {
        if (policy is null)
        {
            throw new ArgumentNullException(nameof(policy));
        }

        uint size = namesSize;
        for (int round = 0; round < MaxPaddingRounds; round++)
        {
            if (!policy.IsForbidden(size))
            {
                return size;
            }

            size += 2;
        }

        throw new ArgumentException($"The names-size policy forbids every size from {namesSize} to {size}.", nameof(policy));
    }

    /// <summary>Reads config bytes: bytes past <see cref="Size"/> read as zero (saturating, never out of bounds).</summary>
    /// <param name="offset">Byte offset.</param>
    /// <param name="destination">Receives the bytes.</param>
    public void Read(uint offset, Span<byte> destination)
    {
        destination.Clear();
        if (offset >= (uint)_bytes.Length)
        {
            return;
        }

        int available = _bytes.Length - (int)offset;
        int count = destination.Length < available ? destination.Length : available;
        _bytes.AsSpan((int)offset, count).CopyTo(destination);
    }
}
