// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;
using VirtioGpio.Transport.VhostUser.Interop;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Internal;

/// <content>Message framing, syntax validation, dispatch and replies.</content>
internal sealed partial class VhostUserConnection
{
    private enum Outcome
    {
        /// <summary>Done; ack 0 if NEED_REPLY and REPLY_ACK.</summary>
        Ok,

        /// <summary>The handler sent its own reply.</summary>
        Replied,

        /// <summary>Rejected: ack ≠ 0 with NEED_REPLY + REPLY_ACK, otherwise the connection closes (VHOST-USER.md §3).</summary>
        Reject,

        /// <summary>Rejected, but without an ack the connection stays (invalid ring size: "never exit", §6.4).</summary>
        RejectKeepConnection,

        /// <summary>Fatal: close the connection whatever was negotiated.</summary>
        Close,
    }

    private string _rejectReason = string.Empty;

    private bool ReplyAckNegotiated => (_protocol & VhostUserProtocolFeatures.ReplyAck) != 0;

    /// <summary>Reads and handles one message. Returns <see langword="false"/> when the connection must close.</summary>
    private bool HandleOneMessage()
    {
        _fdCount = 0;
        if (!TryReadMessage(out VhostUserMessageHeader header))
        {
            FileDescriptors.CloseAll(_fds.AsSpan(0, _fdCount));
            _fdCount = 0;
            return false;
        }

        FrontendRequest request = (FrontendRequest)header.Request;
        ReadOnlySpan<byte> payload = _rx.AsSpan(VhostUserMessageHeader.Size, (int)header.PayloadSize);
        VhostUserMetrics.Messages.Add(1, new KeyValuePair<string, object?>("request", RequestName(request)));
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.Request(_logger, request, (uint)header.Flags, header.PayloadSize, _fdCount);
        }

        Outcome outcome;
        VhostUserSyntaxError syntax = VhostUserMessageCodec.ValidatePayload(request, payload);
        if (syntax != VhostUserSyntaxError.None)
        {
            // VU1: a payload that does not match its type closes the connection.
            FileDescriptors.CloseAll(_fds.AsSpan(0, _fdCount));
            _fdCount = 0;
            return Fail($"{request}: {syntax} (size {header.PayloadSize})");
        }

        VhostUserMessageCodec.GetAllowedFdCount(request, payload, out int minFds, out int maxFds);
        if (_fdCount < minFds || _fdCount > maxFds)
        {
            // VHOST-USER.md §11: close every unexpected or surplus fd at once; the request is invalid.
            _rejectReason = $"{_fdCount} fd(s) attached, {minFds}..{maxFds} allowed";
            FileDescriptors.CloseAll(_fds.AsSpan(0, _fdCount));
            _fdCount = 0;
            outcome = Outcome.Reject;
        }
        else
        {
            _rejectReason = "rejected";
            try
            {
                outcome = Dispatch(request, payload);
            }
            finally
            {
                // Whatever the handler did not take is closed now, on success and on every error path.
                FileDescriptors.CloseAll(_fds.AsSpan(0, _fdCount));
                _fdCount = 0;
            }
        }

        bool ack = header.NeedsReply && ReplyAckNegotiated && !VhostUserMessageCodec.HasOwnReply(request);
        switch (outcome)
        {
            case Outcome.Ok:
                return !ack || SendU64(request, 0);
            case Outcome.Replied:
                return true;
            case Outcome.RejectKeepConnection:
                LogRejected(request, _rejectReason);
                return !ack || SendU64(request, 1);
            case Outcome.Reject:
                LogRejected(request, _rejectReason);
                if (ack)
                {
                    return SendU64(request, 1);
                }

                return Fail($"{request} rejected without REPLY_ACK: {_rejectReason}");
            default:
                return Fail($"{request}: {_rejectReason}");
        }
    }

    private bool Fail(string reason)
    {
        _closeReason = reason;
        VhostUserMetrics.Errors.Add(1, new KeyValuePair<string, object?>("kind", "protocol"));
        Log.ProtocolError(_logger, reason);
        return false;
    }

    /// <summary>
    /// Reads one message: the 12-byte header with its fds (they arrive with the first byte), then
    /// exactly <c>size</c> payload bytes. The size cap is checked before the payload is read.
    /// </summary>
    private bool TryReadMessage(out VhostUserMessageHeader header)
    {
        header = default;
        Span<byte> head = _rx.AsSpan(0, VhostUserMessageHeader.Size);
        int received = UnixSocket.Receive(_socketFd, head, _fds, out _fdCount, out bool truncated);
        if (received == 0)
        {
            _closeReason = "front-end closed the connection";
            return false;
        }

        if (received < 0)
        {
            _closeReason = "recvmsg failed: errno " + (-received);
            return false;
        }

        if (truncated)
        {
            // VHOST-USER.md §11: MSG_CTRUNC means the kernel dropped fds; close what arrived.
            return Fail($"more than {UnixSocket.MaxFdsPerMessage} fds or MSG_CTRUNC");
        }

        if (!TryReadExactly(head.Slice(received)))
        {
            return false;
        }

        header = VhostUserMessageHeader.Read(head);
        VhostUserSyntaxError error = VhostUserMessageCodec.ValidateHeader(header);
        if (error != VhostUserSyntaxError.None)
        {
            return Fail($"bad header ({header}): {error}");
        }

        return TryReadExactly(_rx.AsSpan(VhostUserMessageHeader.Size, (int)header.PayloadSize));
    }

    private bool TryReadExactly(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int received = UnixSocket.Receive(_socketFd, destination, _strayFds, out int strayCount, out bool truncated);
            if (strayCount > 0 || truncated)
            {
                FileDescriptors.CloseAll(_strayFds.AsSpan(0, strayCount));
                return Fail("fds arrived with payload bytes");
            }

            if (received == 0)
            {
                return Fail("connection closed in the middle of a message");
            }

            if (received < 0)
            {
                return Fail("recvmsg failed in the middle of a message: errno " + (-received));
            }

            destination = destination.Slice(received);
        }

        return true;
    }

    /// <summary>Takes ownership of received fd <paramref name="position"/> (it will not be closed after dispatch).</summary>
    private int TakeFd(int position)
    {
        int fd = _fds[position];
        _fds[position] = -1;
        return fd;
    }

    private bool SendReply(FrontendRequest request, ReadOnlySpan<byte> payload, int fd = -1)
    {
        Span<byte> message = _tx.AsSpan(0, VhostUserMessageHeader.Size + payload.Length);
        new VhostUserMessageHeader((uint)request, VhostUserHeaderFlags.Version1 | VhostUserHeaderFlags.Reply, (uint)payload.Length).Write(message);
        payload.CopyTo(message.Slice(VhostUserMessageHeader.Size));
        ReadOnlySpan<int> fds = fd >= 0 ? stackalloc int[] { fd } : default;
        int errno = UnixSocket.Send(_socketFd, message, fds);
        if (errno != 0)
        {
            _closeReason = "sending a reply failed: errno " + errno;
            return false;
        }

        return true;
    }

    private bool SendU64(FrontendRequest request, ulong value)
    {
        Span<byte> payload = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, value);
        return SendReply(request, payload);
    }

    private Outcome ReplyU64(FrontendRequest request, ulong value) => SendU64(request, value) ? Outcome.Replied : Outcome.Close;

    private Outcome Reject(string reason)
    {
        _rejectReason = reason;
        return Outcome.Reject;
    }

    private Outcome Dispatch(FrontendRequest request, ReadOnlySpan<byte> payload)
    {
        switch (request)
        {
            case FrontendRequest.GetFeatures:
                return ReplyU64(request, _offeredFeatures);
            case FrontendRequest.SetFeatures:
                return HandleSetFeatures(BinaryPrimitives.ReadUInt64LittleEndian(payload));
            case FrontendRequest.SetOwner:
                return Outcome.Ok;
            case FrontendRequest.ResetOwner:
                // VHOST-USER.md §3: deprecated; disable all rings, never a full reset.
                foreach (VringState ring in _rings)
                {
                    ring.Enabled = false;
                    UpdateRing(ring);
                }

                return Outcome.Ok;
            case FrontendRequest.SetMemTable:
                return HandleSetMemTable(payload);
            case FrontendRequest.SetLogFd:
                // Optional (VHOST-USER.md §3): no dirty logging here; the fd is closed.
                return Outcome.Ok;
            case FrontendRequest.SetVringNum:
                return HandleSetVringNum(VhostUserVringState.Read(payload));
            case FrontendRequest.SetVringAddr:
                return HandleSetVringAddr(VhostUserVringAddress.Read(payload));
            case FrontendRequest.SetVringBase:
                return HandleSetVringBase(VhostUserVringState.Read(payload));
            case FrontendRequest.GetVringBase:
                return HandleGetVringBase(request, VhostUserVringState.Read(payload));
            case FrontendRequest.SetVringKick:
            case FrontendRequest.SetVringCall:
            case FrontendRequest.SetVringErr:
                return HandleSetVringFd(request, BinaryPrimitives.ReadUInt64LittleEndian(payload));
            case FrontendRequest.GetProtocolFeatures:
                return ReplyU64(request, (ulong)_offeredProtocol);
            case FrontendRequest.SetProtocolFeatures:
                return HandleSetProtocolFeatures((VhostUserProtocolFeatures)BinaryPrimitives.ReadUInt64LittleEndian(payload));
            case FrontendRequest.GetQueueNum:
                return Has(VhostUserProtocolFeatures.Mq) ? ReplyU64(request, (ulong)_rings.Length) : Reject("MQ not negotiated");
            case FrontendRequest.SetVringEnable:
                return HandleSetVringEnable(VhostUserVringState.Read(payload));
            case FrontendRequest.SetBackendReqFd:
                return HandleSetBackendReqFd();
            case FrontendRequest.GetConfig:
                return HandleGetConfig(request, payload);
            case FrontendRequest.SetConfig:
                return HandleSetConfig(payload);
            case FrontendRequest.GetInflightFd:
                return HandleGetInflightFd(request, VhostUserInflightInfo.Read(payload));
            case FrontendRequest.SetInflightFd:
                return HandleSetInflightFd(VhostUserInflightInfo.Read(payload));
            case FrontendRequest.ResetDevice:
                if (!Has(VhostUserProtocolFeatures.ResetDevice))
                {
                    return Reject("RESET_DEVICE not negotiated");
                }

                ResetDevice();
                return Outcome.Ok;
            case FrontendRequest.GetMaxMemSlots:
                return Has(VhostUserProtocolFeatures.ConfigureMemSlots) ? ReplyU64(request, (ulong)_options.MaxMemorySlots) : Reject("CONFIGURE_MEM_SLOTS not negotiated");
            case FrontendRequest.AddMemReg:
                return HandleAddMemReg(payload);
            case FrontendRequest.RemMemReg:
                return HandleRemMemReg(payload);
            case FrontendRequest.SetStatus:
                return HandleSetStatus(BinaryPrimitives.ReadUInt64LittleEndian(payload));
            case FrontendRequest.GetStatus:
                if (!Has(VhostUserProtocolFeatures.Status))
                {
                    return Reject("STATUS not negotiated");
                }

                return ReplyU64(request, (ulong)(_status | (_device.NeedsReset ? (byte)VirtioGpio.Device.VirtioDeviceStatus.DeviceNeedsReset : (byte)0)));
            default:
                // Unknown, net-only, IOMMU, postcopy, crypto, shared objects, device state, LOG_SHMFD, ...:
                // nothing of it is offered (VHOST-USER.md §3).
                return Reject("not supported");
        }
    }

    private bool Has(VhostUserProtocolFeatures feature) => (_protocol & feature) == feature;

    private static string RequestName(FrontendRequest request)
        => request is >= FrontendRequest.GetFeatures and <= FrontendRequest.GetShmemConfig ? RequestNames[(int)request] : "unknown";

    private static readonly string[] RequestNames = Enumerable.Range(0, 45).Select(static i => ((FrontendRequest)i).ToString()).ToArray();
}
