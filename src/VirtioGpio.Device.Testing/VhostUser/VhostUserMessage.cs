// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Transport.VhostUser;
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Device.Testing.VhostUser;

/// <summary>
/// One vhost-user message (12-byte header <c>u32 request; u32 flags; u32 size</c>, then the
/// payload; VHOST-USER.md §2) as sent or received by <see cref="VhostUserFrontendClient"/>.
/// A received message owns the fds that came with it: <see cref="Dispose"/> closes them unless
/// <see cref="TakeFds"/> took them first.
/// </summary>
public sealed class VhostUserMessage : IDisposable
{
    private int[] _fds;

    /// <summary>Creates a message.</summary>
    /// <param name="request">The request code.</param>
    /// <param name="flags">The raw header flags.</param>
    /// <param name="payload">The payload bytes.</param>
    /// <param name="fds">The attached fds.</param>
    /// <param name="ownsFds">Whether <see cref="Dispose"/> closes <paramref name="fds"/>.</param>
    /// <param name="declaredSize">The header's size field (defaults to the payload length).</param>
    public VhostUserMessage(uint request, uint flags, byte[] payload, int[]? fds = null, bool ownsFds = false, uint? declaredSize = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        Request = request;
        Flags = flags;
        Payload = payload;
        _fds = fds ?? Array.Empty<int>();
        FdCount = _fds.Length;
        OwnsFds = ownsFds;
        DeclaredSize = declaredSize ?? (uint)payload.Length;
    }

    /// <summary>The raw request code.</summary>
    public uint Request { get; }

    /// <summary>The request code as an enum value.</summary>
    public FrontendRequest RequestCode => (FrontendRequest)Request;

    /// <summary>The raw header flags.</summary>
    public uint Flags { get; }

    /// <summary>The header's <c>size</c> field.</summary>
    public uint DeclaredSize { get; }

    /// <summary>The payload.</summary>
    public byte[] Payload { get; }

    /// <summary>Whether the REPLY flag (bit 2) is set.</summary>
    public bool IsReply => (Flags & VhostUserFrontendClient.FlagReply) != 0;

    /// <summary>Number of fds that came with the message.</summary>
    public int FdCount { get; }

    /// <summary>The fds that came with the message (closed on <see cref="Dispose"/> when owned).</summary>
    public IReadOnlyList<int> Fds => _fds;

    /// <summary>Whether <see cref="Dispose"/> closes the fds.</summary>
    public bool OwnsFds { get; private set; }

    /// <summary>The header and the payload as they travel on the wire.</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToBytes()
    {
        byte[] bytes = new byte[VhostUserFrontendClient.HeaderSize + Payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Request);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), DeclaredSize);
        Payload.CopyTo(bytes, VhostUserFrontendClient.HeaderSize);
        return bytes;
    }

    /// <summary>Reads the payload as one u64 (the reply of GET_FEATURES and friends, or a REPLY_ACK value).</summary>
    /// <returns>The value.</returns>
    /// <exception cref="VhostUserProtocolException">The payload is not 8 bytes.</exception>
    public ulong ReadUInt64()
    {
        if (Payload.Length != sizeof(ulong))
        {
            throw new VhostUserProtocolException($"Expected an 8-byte payload in {this}.", RequestCode);
        }

        return BinaryPrimitives.ReadUInt64LittleEndian(Payload);
    }

    /// <summary>Takes ownership of the fds: the caller closes them from now on.</summary>
    /// <returns>The fds.</returns>
    public int[] TakeFds()
    {
        int[] fds = _fds;
        OwnsFds = false;
        return fds;
    }

    /// <summary>Closes the fds when owned. Idempotent.</summary>
    public void Dispose()
    {
        if (OwnsFds)
        {
            OwnsFds = false;
            FileDescriptors.CloseAll(_fds);
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{RequestCode} flags 0x{Flags:x} size {DeclaredSize} [{Convert.ToHexString(Payload.AsSpan(0, Math.Min(Payload.Length, 48)))}{(Payload.Length > 48 ? "…" : string.Empty)}]" +
        (FdCount > 0 ? $" +{FdCount} fd" : string.Empty);
}
