// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Internal;

/// <summary>Source-generated log messages of the GPIO devices (no allocation when the level is disabled).
/// Guest-triggered entries go through <see cref="LogRateLimiter"/> first.</summary>
internal static partial class DeviceLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Debug, Message = "Request type {Type} gpio {Gpio} value {Value} answered ERR: {Reason}")]
    public static partial void RequestRejected(ILogger logger, ushort type, ushort gpio, uint value, RejectReason reason);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Debug, Message = "Request chain head {Head} completed with used length {Length}: {Reason}")]
    public static partial void RequestChainMalformed(ILogger logger, ushort head, uint length, RejectReason reason);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Debug, Message = "eventq pair head {Head} for gpio {Gpio} returned at once ({Status}): {Reason}")]
    public static partial void EventPairRejected(ILogger logger, ushort head, int gpio, string status, RejectReason reason);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Debug, Message = "Queue {Queue}: malformed chain head {Head} completed with used length 0: {Error}")]
    public static partial void InvalidChain(ILogger logger, int queue, ushort head, VirtqueueError error);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Debug, Message = "{Count} guest-triggered log entries were suppressed by the rate limiter")]
    public static partial void Suppressed(ILogger logger, long count);

    [LoggerMessage(EventId = 4110, Level = LogLevel.Warning, Message = "Queue {Queue} broke ({Error}): DEVICE_NEEDS_RESET set")]
    public static partial void QueueBroken(ILogger logger, int queue, VirtqueueError error);

    [LoggerMessage(EventId = 4111, Level = LogLevel.Warning, Message = "Line backend failed on line {Line} during {Operation}; the guest gets ERR")]
    public static partial void BackendFailed(ILogger logger, Exception exception, int line, string operation);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Warning, Message = "A device event handler threw; the exception was ignored")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4113, Level = LogLevel.Debug, Message = "Driver features {Driver:x} refused (offered {Offered:x})")]
    public static partial void FeaturesRefused(ILogger logger, ulong driver, ulong offered);

    [LoggerMessage(EventId = 4114, Level = LogLevel.Debug, Message = "Line event for line {Line} ignored: outside 0..{Max}")]
    public static partial void LineEventOutOfRange(ILogger logger, int line, int max);

    [LoggerMessage(EventId = 4115, Level = LogLevel.Debug, Message = "Inflight head {Head} on queue {Queue} not resubmitted: {Error}")]
    public static partial void InflightHeadSkipped(ILogger logger, int queue, ushort head, VirtqueueError error);
}
