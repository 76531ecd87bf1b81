// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Internal;

/// <summary>Why the device answered a guest message with ERR / INVALID / used length 0 (log and metric tag only).</summary>
internal enum RejectReason : byte
{
    None = 0,
    UnknownType,
    LineOutOfRange,
    ShortRequest,
    NoResponseBuffer,
    ResponseBufferTooSmall,
    InvalidValue,
    InvalidDirection,
    InvalidIrqType,
    IrqNotNegotiated,
    IrqOnOutputLine,
    OutputWhileIrqEnabled,
    IrqTypeChangeWhileEnabled,
    LineNamesNotSupported,
    UnconfiguredLineRead,
    BackendFailure,
    DuplicateEventPair,
    EventPairForDisabledLine,
    ShortEventPair,
    EventQueueNotNegotiated,
}
