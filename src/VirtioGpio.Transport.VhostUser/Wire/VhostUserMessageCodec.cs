// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser.Wire;

/// <summary>
/// Syntax validation of front-end messages: header flags, size caps, payload sizes per request and
/// the number of fds each request may carry (the ≈ rust-vmm <c>VhostUserMsgValidator</c> layer; no
/// device or session state is consulted here). Semantics live in the connection handler.
/// </summary>
internal static class VhostUserMessageCodec
{
    /// <summary>Largest accepted payload (rust-vmm MAX_MSG_SIZE, 4 KiB). Checked before the payload is read.</summary>
    public const int MaxPayloadSize = 0x1000;

    /// <summary>Bit 8 of the SET_VRING_KICK/CALL/ERR u64: no fd attached (VHOST_USER_VRING_NOFD_MASK).</summary>
    public const ulong VringNoFdFlag = 1UL << 8;

    /// <summary>Bits 0–7 of the SET_VRING_KICK/CALL/ERR u64: the ring index.</summary>
    public const ulong VringIndexMask = 0xFF;

    /// <summary>Checks a request header (VHOST-USER.md §2: version 1, reserved bits clear, size cap).</summary>
    public static VhostUserSyntaxError ValidateHeader(in VhostUserMessageHeader header)
    {
        if (header.Version != 1)
        {
            return VhostUserSyntaxError.BadVersion;
        }

        // REPLY on a request is as wrong as any reserved bit.
        if ((header.Flags & (VhostUserHeaderFlags.ReservedMask | VhostUserHeaderFlags.Reply)) != 0)
        {
            return VhostUserSyntaxError.ReservedFlags;
        }

        return header.PayloadSize > MaxPayloadSize ? VhostUserSyntaxError.PayloadTooLarge : VhostUserSyntaxError.None;
    }

    /// <summary>
    /// Checks the payload size against the request's payload type (exact, or computed for the
    /// variable ones). Unknown requests accept any size under the cap (they are rejected later).
    /// </summary>
    public static VhostUserSyntaxError ValidatePayload(FrontendRequest request, ReadOnlySpan<byte> payload)
    {
        int size = payload.Length;
        bool ok = request switch
        {
            FrontendRequest.GetFeatures or FrontendRequest.SetOwner or FrontendRequest.ResetOwner
                or FrontendRequest.GetProtocolFeatures or FrontendRequest.GetQueueNum or FrontendRequest.SetBackendReqFd
                or FrontendRequest.ResetDevice or FrontendRequest.GetMaxMemSlots or FrontendRequest.GetStatus
                or FrontendRequest.CheckDeviceState or FrontendRequest.SetLogFd or FrontendRequest.GpuSetSocket
                or FrontendRequest.PostcopyAdvise or FrontendRequest.PostcopyListen or FrontendRequest.PostcopyEnd => size == 0,
            FrontendRequest.SetFeatures or FrontendRequest.SetProtocolFeatures or FrontendRequest.SetVringKick
                or FrontendRequest.SetVringCall or FrontendRequest.SetVringErr or FrontendRequest.SetStatus
                or FrontendRequest.SendRarp or FrontendRequest.NetSetMtu => size == sizeof(ulong),
            FrontendRequest.SetVringNum or FrontendRequest.SetVringBase or FrontendRequest.GetVringBase
                or FrontendRequest.SetVringEnable or FrontendRequest.SetVringEndian or FrontendRequest.VringKick
                or FrontendRequest.SetDeviceStateFd => size == VhostUserVringState.Size,
            FrontendRequest.SetVringAddr => size == VhostUserVringAddress.Size,
            FrontendRequest.SetMemTable => IsValidMemTableSize(payload),
            FrontendRequest.AddMemReg or FrontendRequest.RemMemReg => size == VhostUserMemoryRegionInfo.SingleRegionPayloadSize,
            FrontendRequest.SetLogBase => size == 16,
            FrontendRequest.GetConfig or FrontendRequest.SetConfig => IsValidConfigSize(payload),
            FrontendRequest.GetInflightFd or FrontendRequest.SetInflightFd => size == VhostUserInflightInfo.EncodedSize,
            _ => true,
        };

        return ok ? VhostUserSyntaxError.None : VhostUserSyntaxError.PayloadSizeMismatch;
    }

    /// <summary>
    /// The number of fds a request may carry: <paramref name="minimum"/>..<paramref name="maximum"/>
    /// (VHOST-USER.md §3 "fds" column). Call after <see cref="ValidatePayload"/>.
    /// </summary>
    public static void GetAllowedFdCount(FrontendRequest request, ReadOnlySpan<byte> payload, out int minimum, out int maximum)
    {
        switch (request)
        {
            case FrontendRequest.SetMemTable:
                int regions = (int)Math.Min(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(payload), int.MaxValue);
                minimum = maximum = regions;
                return;
            case FrontendRequest.SetVringKick:
            case FrontendRequest.SetVringCall:
            case FrontendRequest.SetVringErr:
                ulong value = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(payload);
                minimum = maximum = (value & VringNoFdFlag) != 0 ? 0 : 1;
                return;
            case FrontendRequest.SetLogBase:
            case FrontendRequest.SetLogFd:
            case FrontendRequest.SetBackendReqFd:
            case FrontendRequest.SetInflightFd:
            case FrontendRequest.GpuSetSocket:
            case FrontendRequest.AddMemReg:
            case FrontendRequest.SetDeviceStateFd:
                minimum = maximum = 1;
                return;
            case FrontendRequest.RemMemReg:
                // "MAY accept" one fd, which "MUST" then be closed unused (VHOST-USER.md §3).
                minimum = 0;
                maximum = 1;
                return;
            default:
                minimum = maximum = 0;
                return;
        }
    }

    /// <summary>Whether the request always has a reply payload of its own (VHOST-USER.md §5.3), so NEED_REPLY adds nothing.</summary>
    public static bool HasOwnReply(FrontendRequest request) => request switch
    {
        FrontendRequest.GetFeatures or FrontendRequest.GetProtocolFeatures or FrontendRequest.GetVringBase
            or FrontendRequest.GetQueueNum or FrontendRequest.GetConfig or FrontendRequest.GetMaxMemSlots
            or FrontendRequest.GetStatus or FrontendRequest.GetInflightFd or FrontendRequest.IotlbMsg
            or FrontendRequest.PostcopyEnd or FrontendRequest.SetDeviceStateFd or FrontendRequest.CheckDeviceState
            or FrontendRequest.GetSharedObject or FrontendRequest.PostcopyAdvise => true,
        _ => false,
    };

    private static bool IsValidMemTableSize(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < VhostUserMemoryRegionInfo.TableHeaderSize)
        {
            return false;
        }

        uint regions = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(payload);
        return regions <= VhostUserMemoryRegionInfo.MaxTableRegions
            && payload.Length == VhostUserMemoryRegionInfo.TableHeaderSize + ((int)regions * VhostUserMemoryRegionInfo.EncodedSize);
    }

    private static bool IsValidConfigSize(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < VhostUserConfigHeader.EncodedSize)
        {
            return false;
        }

        VhostUserConfigHeader header = VhostUserConfigHeader.Read(payload);
        return (ulong)payload.Length == VhostUserConfigHeader.EncodedSize + (ulong)header.Size;
    }
}
