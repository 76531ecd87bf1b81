// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging;

namespace VirtioGpio.Transport.VhostUser.Internal;

/// <summary>Source-generated log messages of the vhost-user back-end (no allocation when disabled).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "vhost-user back-end listening on {SocketPath}")]
    public static partial void Listening(ILogger logger, string socketPath);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "vhost-user front-end connected (connection {ConnectionNumber})")]
    public static partial void FrontendConnected(ILogger logger, long connectionNumber);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "vhost-user front-end disconnected (connection {ConnectionNumber}): {Reason}")]
    public static partial void FrontendDisconnected(ILogger logger, long connectionNumber, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Removed stale socket file {SocketPath}")]
    public static partial void RemovedStaleSocket(ILogger logger, string socketPath);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "vhost-user request {Request} (flags 0x{Flags:x}, size {Size}, fds {FdCount})")]
    public static partial void Request(ILogger logger, FrontendRequest request, uint flags, uint size, int fdCount);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "vhost-user message rejected: {Request}: {Reason}")]
    public static partial void Rejected(ILogger logger, FrontendRequest request, string reason);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "vhost-user protocol error, closing the connection: {Reason}")]
    public static partial void ProtocolError(ILogger logger, string reason);

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "vhost-user ring {Queue}: {State}")]
    public static partial void RingState(ILogger logger, int queue, string state);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "vhost-user ring {Queue} cannot start: {Reason}")]
    public static partial void RingNotStarted(ILogger logger, int queue, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "{Count} vhost-user warnings suppressed by rate limiting")]
    public static partial void Suppressed(ILogger logger, long count);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "vhost-user connection failed unexpectedly")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 12, Level = LogLevel.Debug, Message = "vhost-user memory table: {RegionCount} region(s)")]
    public static partial void MemoryTable(ILogger logger, int regionCount);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "vhost-user ring {Queue}: resubmitting {Count} inflight head(s)")]
    public static partial void Resubmitting(ILogger logger, int queue, int count);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "vhost-user ring {Queue} is broken ({Reason}); signalled the err fd")]
    public static partial void RingBroken(ILogger logger, int queue, string reason);

    [LoggerMessage(EventId = 15, Level = LogLevel.Error, Message = "vhost-user accept failed")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);
}
