// SPDX-License-Identifier: MIT
using VirtioGpio.Transport.VhostUser;

namespace VirtioGpio.Device.Testing.VhostUser;

/// <summary>
/// A vhost-user exchange failed: the back-end rejected a request (a REPLY_ACK value ≠ 0), sent a
/// malformed reply, or closed the connection.
/// </summary>
public sealed class VhostUserProtocolException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="request">The request being exchanged.</param>
    /// <param name="ackValue">The non-zero REPLY_ACK value, when the back-end rejected the request.</param>
    /// <param name="isDisconnected">Whether the back-end closed the connection.</param>
    public VhostUserProtocolException(string message, FrontendRequest request, ulong? ackValue = null, bool isDisconnected = false)
        : base(message)
    {
        Request = request;
        AckValue = ackValue;
        IsDisconnected = isDisconnected;
    }

    /// <summary>The request being exchanged.</summary>
    public FrontendRequest Request { get; }

    /// <summary>The non-zero REPLY_ACK value, when the back-end rejected the request.</summary>
    public ulong? AckValue { get; }

    /// <summary>Whether the back-end closed the connection.</summary>
    public bool IsDisconnected { get; }
}
