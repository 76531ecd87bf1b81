// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace VirtioGpio.Transport.VhostUser.Wire;

/// <summary>
/// <c>struct vhost_user_msg_header { u32 request; u32 flags; u32 size; }</c>, 12 bytes, native byte
/// order (VHOST-USER.md §2). This library supports little-endian hosts only (x86-64, arm64), so the
/// native order is little-endian.
/// </summary>
internal readonly struct VhostUserMessageHeader
{
    /// <summary>Header size in bytes.</summary>
    public const int Size = 12;

    public VhostUserMessageHeader(uint request, VhostUserHeaderFlags flags, uint payloadSize)
    {
        Request = request;
        Flags = flags;
        PayloadSize = payloadSize;
    }

    /// <summary>The raw request code (may be unknown).</summary>
    public uint Request { get; }

    /// <summary>The raw flags (may contain reserved bits).</summary>
    public VhostUserHeaderFlags Flags { get; }

    /// <summary>Payload bytes that follow the header.</summary>
    public uint PayloadSize { get; }

    /// <summary>The version field (bits 0–1).</summary>
    public uint Version => (uint)(Flags & VhostUserHeaderFlags.VersionMask);

    /// <summary>Whether NEED_REPLY is set.</summary>
    public bool NeedsReply => (Flags & VhostUserHeaderFlags.NeedReply) != 0;

    /// <summary>Whether REPLY is set.</summary>
    public bool IsReply => (Flags & VhostUserHeaderFlags.Reply) != 0;

    /// <summary>Reads a header (no validation).</summary>
    public static VhostUserMessageHeader Read(ReadOnlySpan<byte> source)
        => new(
            BinaryPrimitives.ReadUInt32LittleEndian(source),
            (VhostUserHeaderFlags)BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(4)),
            BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(8)));

    /// <summary>Writes the header into the first 12 bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Request);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(4), (uint)Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(8), PayloadSize);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{(FrontendRequest)Request} flags 0x{(uint)Flags:x} size {PayloadSize}";
}
