// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging;

namespace VirtioGpio.Daemon.Diagnostics;

/// <summary>Source-generated log messages of the daemon. Nothing here is on a guest-triggered path.</summary>
internal static partial class DaemonLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "listening on {Path}")]
    public static partial void Listening(ILogger logger, string path);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "device {Device}: {Dialect} dialect, device ID {DeviceId}, {LineCount} lines, max queue size {QueueSize}, irq {Irq}")]
    public static partial void DeviceCreated(ILogger logger, int device, string dialect, uint deviceId, int lineCount, int queueSize, string irq);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "control socket listening on {Path}")]
    public static partial void ControlListening(ILogger logger, string path);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "tracing device {Device} to {Path}")]
    public static partial void Tracing(ILogger logger, int device, string path);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "device {Device}: front-end connected on {Path}")]
    public static partial void FrontendConnected(ILogger logger, int device, string path);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "device {Device}: front-end disconnected from {Path}")]
    public static partial void FrontendDisconnected(ILogger logger, int device, string path);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "received {Signal}, shutting down")]
    public static partial void Signal(ILogger logger, string signal);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 9, Level = LogLevel.Error, Message = "device {Device}: vhost-user server on {Path} failed")]
    public static partial void ServerFailed(ILogger logger, int device, string path, Exception exception);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "control client {Client} connected")]
    public static partial void ControlClientConnected(ILogger logger, long client);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "control client {Client} disconnected")]
    public static partial void ControlClientDisconnected(ILogger logger, long client);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "control client {Client} failed")]
    public static partial void ControlClientFailed(ILogger logger, long client, Exception exception);

    [LoggerMessage(EventId = 13, Level = LogLevel.Debug, Message = "control client {Client}: {Command} -> ok={Ok}")]
    public static partial void ControlRequest(ILogger logger, long client, string command, bool ok);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "control client {Client} is too slow: dropping events")]
    public static partial void ControlEventsDropped(ILogger logger, long client);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "could not remove {Path}")]
    public static partial void RemoveFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 17, Level = LogLevel.Information, Message = "device {Device}: draft config is {ConfigSize} bytes (QEMU vhost-user-device: virtio-id={DeviceId},num_vqs=2,config_size={ConfigSize})")]
    public static partial void DraftConfig(ILogger logger, int device, int configSize, uint deviceId);

    [LoggerMessage(EventId = 16, Level = LogLevel.Critical, Message = "unexpected failure")]
    public static partial void Unexpected(ILogger logger, Exception exception);
}
