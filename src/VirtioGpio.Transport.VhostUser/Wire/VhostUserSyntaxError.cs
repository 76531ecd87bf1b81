// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser.Wire;

/// <summary>Why a message failed syntax validation (each closes the connection: VHOST-USER.md §13 VU1).</summary>
internal enum VhostUserSyntaxError : byte
{
    /// <summary>Valid.</summary>
    None = 0,

    /// <summary>The version bits are not 1.</summary>
    BadVersion,

    /// <summary>A reserved flag bit (or REPLY on a request) is set.</summary>
    ReservedFlags,

    /// <summary>The payload size exceeds <see cref="VhostUserMessageCodec.MaxPayloadSize"/>.</summary>
    PayloadTooLarge,

    /// <summary>The payload size does not match the payload type of the request.</summary>
    PayloadSizeMismatch,

    /// <summary>fds were dropped by the kernel (MSG_CTRUNC) or exceeded the per-message cap.</summary>
    TooManyFds,

    /// <summary>fds arrived with payload bytes instead of the first byte of the message.</summary>
    FdsInPayload,

    /// <summary>The peer closed the connection in the middle of a message.</summary>
    Truncated,
}
