// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging;

namespace VirtioGpio.Device.Gpio.Draft;

/// <summary>Source-generated, allocation-free log messages of the draft device. Guest-triggered ones are rate-limited by the caller.</summary>
internal static partial class DraftGpioLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Draft GPIO request type 0x{Type:x4} pin {Pin} value {Value} failed with errno {Errno}")]
    public static partial void RequestFailed(ILogger logger, ushort type, ushort pin, int value, int errno);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Draft GPIO device needs reset: {Reason}")]
    public static partial void NeedsReset(ILogger logger, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Draft GPIO backend failed on pin {Pin}; replying -EIO")]
    public static partial void BackendFailed(ILogger logger, Exception exception, int pin);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "Draft GPIO HOST_LEVEL sent: pin {Pin} value {Value}")]
    public static partial void HostLevelSent(ILogger logger, int pin, int value);
}
