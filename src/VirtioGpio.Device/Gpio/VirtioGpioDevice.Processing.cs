// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using VirtioGpio.Device.Internal;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Gpio;

/// <content>Queue processing: requestq messages, eventq pairs, host line events, completions and notifications.
/// Everything here runs under the device lock.</content>
public sealed partial class VirtioGpioDevice
{
    /// <inheritdoc/>
    bool IHeldPairCompleter.CanCompletePairs => CanCompletePairs();

    /// <inheritdoc/>
    void IHeldPairCompleter.CompletePair(int lineNumber, ushort headIndex, GuestAddress response, GpioIrqStatus status)
        => CompletePair(lineNumber, headIndex, response, status);

    private bool CanCompletePairs()
    {
        if (!_active || !_irqNegotiated || _queues.Length <= EventQueueIndex || _memory is null)
        {
            return false;
        }

        SplitQueue eventq = _queues[EventQueueIndex];
        return eventq.IsReady && !eventq.IsBroken;
    }

    private void BeginOperation() => _busy = true;

    private void EndOperation()
    {
        try
        {
            // Host line events that re-entered on this thread while the device was busy (IGpioLineEventSink
            // called from inside a backend call) are applied now, in order.
            while (_deferredLevels.Count > 0)
            {
                KeyValuePair<int, LineValue> e = _deferredLevels.Dequeue();
                _bank.OnLevelChanged(e.Key, e.Value);
            }

            Exception? backendFailure = _bank.TakeBackendException();
            if (backendFailure is not null && _logger.IsEnabled(LogLevel.Warning) && AcquireLogSlot())
            {
                DeviceLog.BackendFailed(_logger, backendFailure, -1, "a line operation");
            }

            _metrics.Flush();
        }
        finally
        {
            _busy = false;
        }
    }

    // The per-chain loop is a JIT root of its own: inlined into whatever notify path the VMM compiles around it, it
    // competes with that caller for the inliner's per-method budget and loses the pop/copy/complete fast paths to
    // calls (measured on the WORKLOAD.md shape: ≈ 70 instead of ≈ 45 ns per chain; docs/benchmarks.md).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DrainLocked(int queueIndex)
    {
        SplitQueue queue = _queues[queueIndex];
        bool isEventq = queueIndex == EventQueueIndex;
        _inEventDrain = isEventq;
        try
        {
            while (true)
            {
                VirtqueueError error = isEventq ? DrainEventPairs(queue) : DrainRequests(queue);

                if (queue.IsBroken)
                {
                    OnQueueBroken(queueIndex, queue.BrokenReason);
                    return;
                }

                if (error != VirtqueueError.None)
                {
                    return; // not ready: nothing to do
                }

                NotifyIfNeeded(queueIndex);

                // VIRTIO 1.3 §2.7.10 "Available Buffer Notification Suppression": with EVENT_IDX the driver kicks only
                // when avail.idx passes avail_event, so publish it and look again to close the race with a driver
                // that published just before (G6).
                if (!queue.EventIdxEnabled)
                {
                    return;
                }

                VirtqueueError notifyError = queue.SetAvailNotifications(true);
                if (notifyError != VirtqueueError.None)
                {
                    if (queue.IsBroken)
                    {
                        OnQueueBroken(queueIndex, queue.BrokenReason);
                    }

                    return;
                }

                if (!queue.HasAvailable())
                {
                    return;
                }
            }
        }
        finally
        {
            _inEventDrain = false;
        }
    }

    // One pop loop per queue: the eventq handler takes its chain by reference, and a chain local passed by reference
    // anywhere in the request loop would keep every chain of that loop on the stack.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private VirtqueueError DrainRequests(SplitQueue queue)
    {
        VirtqueueError error;
        while (queue.TryPopAvailable(out DescriptorChain chain, out error))
        {
            ProcessRequest(queue, chain);
        }

        return error;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private VirtqueueError DrainEventPairs(SplitQueue queue)
    {
        VirtqueueError error;
        while (queue.TryPopAvailable(out DescriptorChain chain, out error))
        {
            ProcessEventPair(queue, in chain);
        }

        return error;
    }

    // ------------------------------------------------------------------------------------------------
    // requestq (VIRTIO 1.3 §5.18.6 "Device Operation: requestq"; STANDARD.md §4)
    // ------------------------------------------------------------------------------------------------

    // The request path every driver takes: an 8-byte request and a response buffer that holds the whole 2-byte
    // response in its first writable descriptor, in the queue's resolved region. After the line operation only the head,
    // the request and the response location are used, never the chain (it need not be reloaded). Anything else (no or a short
    // writable part, a split or short request, memory without a host base) is ProcessRequestGeneral, with the same
    // answers (STANDARD.md §4.4).
    private void ProcessRequest(SplitQueue queue, DescriptorChain chain)
    {
        ref byte responseTarget = ref chain.WritableHostRef(GpioResponse.Size);
        if (Unsafe.IsNullRef(ref responseTarget) || !chain.TryCopyFromReadable(out ulong wire))
        {
            ProcessRequestGeneral(queue, chain);
            return;
        }

        // G1: the request is the first 8 bytes of the readable buffers (VDG-2), copied once, into a register.
        GpioRequest request = GpioCodec.DecodeRequest(wire);
        if (request.Type == GpioMessageType.GetLineNames)
        {
            ProcessLineNames(queue, chain, request);
            return;
        }

        ushort head = chain.HeadIndex;
        LineResult result = ExecuteRequest(request);

        // D1 / G4: status and value, exactly 2 bytes (virtio_gpio_response, VIRTIO 1.3 §5.18.6 "Device Operation:
        // requestq"). SAFETY: WritableHostRef checked that the first writable buffer holds them, in the region.
        Unsafe.WriteUnaligned(ref responseTarget, result.WireResponse);
        Complete(queue, RequestQueueIndex, head, GpioResponse.Size);
        AfterRequest(request, result);
    }

    /// <summary>Any request chain: no or a short writable part, a split or short request (STANDARD.md §4.4; R2, G1, G4).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // cold: keeps ProcessRequest's frame small
    private void ProcessRequestGeneral(SplitQueue queue, DescriptorChain chain)
    {
        ushort head = chain.HeadIndex;
        uint writable = chain.WritableLength;
        if (writable == 0)
        {
            RejectWithoutResponseBuffer(queue, head);
            return;
        }

        // G1: the request is the first 8 bytes of the concatenated readable buffers, whatever the split (VDG-2).
        if (!chain.TryCopyFromReadable(out ulong wire))
        {
            RejectShortRequest(queue, chain);
            return;
        }

        GpioRequest request = GpioCodec.DecodeRequest(wire);
        if (request.Type == GpioMessageType.GetLineNames)
        {
            ProcessLineNames(queue, chain, request);
            return;
        }

        // STANDARD.md §4.4: a response buffer that is too small gets ERR in what fits; nothing is executed.
        LineResult result = writable < GpioResponse.Size ? LineResult.Error(RejectReason.ResponseBufferTooSmall) : ExecuteRequest(request);
        ushort response = result.WireResponse;

        // Used length = bytes written: 2 when the response fits, what fits otherwise (G4; VDG-4 / N4).
        uint written = chain.TryCopyToWritable(response) ? GpioResponse.Size : WriteResponseWhatFits(chain, response);
        Complete(queue, RequestQueueIndex, head, written);
        AfterRequest(request, result);
    }

    /// <summary>A request other than GET_LINE_NAMES, on the guest's line number (STANDARD.md §4.4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private LineResult ExecuteRequest(GpioRequest request)
    {
        if (!_bank.TryGetLine(request.Line, out int line))
        {
            // §4.4: gpio >= ngpio → ERR, never an array index (VDG-1 / N1). Unknown types with a bad line land here too.
            return LineResult.Error(GpioCodec.IsKnownMessageType(request.Type) ? RejectReason.LineOutOfRange : RejectReason.UnknownType);
        }

        // GET_VALUE (polling: the most frequent request) inline; the others out of line.
        return request.Type == GpioMessageType.GetValue ? _bank.GetValue(line) : ExecuteLineRequest(request.Type, line, request.Value);
    }

    /// <summary>Every request type but GET_VALUE and GET_LINE_NAMES, on a validated line (STANDARD.md §4.4).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private LineResult ExecuteLineRequest(GpioMessageType type, int line, uint requestValue)
    {
        switch (type)
        {
            case GpioMessageType.SetValue:
                return _bank.SetValue(line, requestValue);
            case GpioMessageType.GetDirection:
                return _bank.GetDirection(line);
            case GpioMessageType.SetDirection:
                return _bank.SetDirection(line, requestValue);
            case GpioMessageType.SetIrqType:
                return _bank.SetIrqType(line, requestValue, _irqNegotiated);
            default:
                return LineResult.Error(RejectReason.UnknownType); // §4.4: unknown type → ERR
        }
    }

    /// <summary>G4 / STANDARD.md §4.4: a response buffer split over descriptors, or too small: write what fits.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // cold: keeps ProcessRequest's frame small
    private static uint WriteResponseWhatFits(DescriptorChain chain, ushort response)
    {
        Span<byte> bytes = stackalloc byte[GpioResponse.Size];
        Unsafe.WriteUnaligned(ref bytes[0], response); // already in memory order
        DescriptorChainWriter writer = chain.CreateWriter();
        writer.Write(bytes);
        return writer.BytesWritten;
    }

    /// <summary>R2 / STANDARD.md §4.4: no writable bytes → complete with used length 0 and count a protocol error.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // cold: keeps ProcessRequest's frame small
    private void RejectWithoutResponseBuffer(SplitQueue queue, ushort head)
    {
        _metrics.ProtocolError();
        LogMalformedRequest(head, 0, RejectReason.NoResponseBuffer);
        Complete(queue, RequestQueueIndex, head, 0);
    }

    /// <summary>R2: a short request → ERR if a writable byte exists.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // cold: keeps ProcessRequest's frame small
    private void RejectShortRequest(SplitQueue queue, DescriptorChain chain)
    {
        DescriptorChainWriter writer = chain.CreateWriter();
        WriteError(ref writer, 1);
        _metrics.ProtocolError();
        LogMalformedRequest(chain.HeadIndex, writer.BytesWritten, RejectReason.ShortRequest);
        Complete(queue, RequestQueueIndex, chain.HeadIndex, writer.BytesWritten);
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // cold: keeps ProcessRequest's frame small
    private void ProcessLineNames(SplitQueue queue, DescriptorChain chain, GpioRequest request)
    {
        DescriptorChainWriter writer = chain.CreateWriter();
        // STANDARD.md §4.4: gpio and value of GET_LINE_NAMES are ignored (lenient); D3: no names → ERR.
        uint size = _namesSize;
        LineResult result;
        if (size == 0)
        {
            result = LineResult.Error(RejectReason.LineNamesNotSupported);
            WriteError(ref writer, 1);
        }
        else if (chain.WritableLength < 1 + (ulong)size)
        {
            result = LineResult.Error(RejectReason.ResponseBufferTooSmall);
            WriteError(ref writer, (int)size);
        }
        else
        {
            // response_N: status OK, then the N-byte names block (§5; D4).
            Span<byte> ok = stackalloc byte[1];
            ok[0] = (byte)GpioStatus.Ok;
            writer.Write(ok);
            writer.Write(_names.Block);
            result = LineResult.Ok;
        }

        Complete(queue, RequestQueueIndex, chain.HeadIndex, writer.BytesWritten);
        AfterRequest(request, result);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AfterRequest(GpioRequest request, LineResult result)
    {
        bool failed = !result.IsOk;
        _metrics.Request((ushort)request.Type, failed);
        if (failed)
        {
            LogRejectedRequest((ushort)request.Type, request.Line, request.Value, result.Reason);
        }

        if (RequestProcessed is not null)
        {
            _requestEvents.Post(new GpioRequestEvent(request.Type, request.Line, request.Value, result.Status, result.Value, _time.GetUtcNow()));
        }
    }

    /// <summary>STANDARD.md §4.4: "write what fits (status ERR first, then zeros), never past the last writable byte".</summary>
    private static void WriteError(ref DescriptorChainWriter writer, int valueLength)
    {
        Span<byte> chunk = stackalloc byte[32];
        chunk.Clear();
        chunk[0] = (byte)GpioStatus.Err;
        if (writer.Write(chunk.Slice(0, 1)) != 1)
        {
            return;
        }

        chunk[0] = 0;
        long left = Math.Min(valueLength, writer.Remaining);
        while (left > 0)
        {
            int n = (int)Math.Min(left, chunk.Length);
            int written = writer.Write(chunk.Slice(0, n));
            if (written <= 0)
            {
                return; // memory failure: report what was written
            }

            left -= written;
        }
    }

    // ------------------------------------------------------------------------------------------------
    // eventq (VIRTIO 1.3 §5.18.7 "Device Operation: eventq"; STANDARD.md §6, §8)
    // ------------------------------------------------------------------------------------------------

    private void ProcessEventPair(SplitQueue queue, in DescriptorChain chain)
    {
        ushort head = chain.HeadIndex;

        // The 1-byte irq_response is the first writable byte; keep its guest address, never a span (re-translated
        // at completion; the pair may be held for hours).
        GuestAddress response = default;
        bool hasResponse = false;
        foreach (Descriptor descriptor in chain)
        {
            if (descriptor.IsWriteOnly && descriptor.Length != 0)
            {
                response = descriptor.Address;
                hasResponse = true;
                break;
            }
        }

        if (!hasResponse)
        {
            // §6.2: malformed pair without a writable byte → used length 0.
            _metrics.ProtocolError();
            LogEventPair(head, -1, GpioIrqStatus.Invalid, RejectReason.NoResponseBuffer);
            Complete(queue, EventQueueIndex, head, 0);
            return;
        }

        // R1 / R11: whatever arrives on the eventq is an irq pair keyed by its own gpio field.
        Span<byte> raw = stackalloc byte[GpioIrqRequest.Size];
        DescriptorChainReader reader = chain.CreateReader();
        if (!reader.TryReadExactly(raw) || !GpioCodec.TryReadIrqRequest(raw, out GpioIrqRequest irq))
        {
            _metrics.ProtocolError();
            LogEventPair(head, -1, GpioIrqStatus.Invalid, RejectReason.ShortEventPair);
            CompletePair(-1, head, response, GpioIrqStatus.Invalid);
            return;
        }

        if (!_bank.TryGetLine(irq.Line, out int line))
        {
            // §6.2: gpio >= ngpio → INVALID at once, never an index (VDG-1).
            _metrics.ProtocolError();
            LogEventPair(head, irq.Line, GpioIrqStatus.Invalid, RejectReason.LineOutOfRange);
            CompletePair(irq.Line, head, response, GpioIrqStatus.Invalid);
            return;
        }

        PairOutcome outcome = _bank.OnPairArrived(line, head, response, out RejectReason reason);
        if (outcome == PairOutcome.Held)
        {
            return;
        }

        GpioIrqStatus status = outcome == PairOutcome.CompleteValid ? GpioIrqStatus.Valid : GpioIrqStatus.Invalid;
        if (status == GpioIrqStatus.Invalid)
        {
            LogEventPair(head, line, status, reason);
        }

        CompletePair(line, head, response, status);
    }

    private void CompletePair(int lineNumber, ushort headIndex, GuestAddress response, GpioIrqStatus status)
    {
        SplitQueue eventq = _queues[EventQueueIndex];

        // STANDARD.md §8: write the 1-byte status, used len = 1 (Linux: "irq with incorrect length" otherwise).
        // The address is translated now; if the guest unmapped it, nothing is written and len is 0.
        Span<byte> status1 = stackalloc byte[1];
        status1[0] = (byte)status;
        uint length = _memory is not null && _memory.TryWrite(response, status1) == GuestMemoryError.None ? 1u : 0u;
        VirtqueueError error = eventq.AddUsed(headIndex, length);
        if (error != VirtqueueError.None)
        {
            if (eventq.IsBroken)
            {
                OnQueueBroken(EventQueueIndex, eventq.BrokenReason);
            }

            return;
        }

        _metrics.Interrupt(status == GpioIrqStatus.Valid);
        if (InterruptDelivered is not null)
        {
            _interruptEvents.Post(new GpioInterruptEvent(lineNumber, status, _time.GetUtcNow()));
        }

        if (!_inEventDrain)
        {
            // Outside an eventq batch (a host line event, or SET_IRQ_TYPE(NONE) on the requestq): notify now, so the
            // eventq completion is published and signalled before the requestq reply (D12, §6.1).
            NotifyIfNeeded(EventQueueIndex);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // shared helpers
    // ------------------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Complete(SplitQueue queue, int queueIndex, ushort head, uint length)
    {
        VirtqueueError error = queue.AddUsed(head, length);
        if (error != VirtqueueError.None && queue.IsBroken)
        {
            OnQueueBroken(queueIndex, queue.BrokenReason);
        }
    }

    private void NotifyIfNeeded(int queueIndex)
    {
        // G6 / VDG-15: consult the driver's suppression (flags or used_event) once per batch.
        if (_queues[queueIndex].NeedsNotification())
        {
            _interrupts?.NotifyUsedBuffers(queueIndex);
            _metrics.Notification(queueIndex);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void OnQueueBroken(int queueIndex, VirtqueueError reason)
    {
        // STYLE.md §C: a ring-level guest error sets DEVICE_NEEDS_RESET and raises a configuration-change
        // interrupt (VIRTIO 1.3 §2.1.2 "Device Requirements: Device Status Field").
        if (_needsReset)
        {
            return;
        }

        _needsReset = true;
        if (_logger.IsEnabled(LogLevel.Warning))
        {
            DeviceLog.QueueBroken(_logger, queueIndex, reason);
        }

        _interrupts?.NotifyConfigChange();
    }

    private void ResubmitPendingLocked(int queueIndex)
    {
        List<ushort> pending = _pendingResubmit[queueIndex];
        if (pending.Count == 0)
        {
            return;
        }

        SplitQueue queue = _queues[queueIndex];
        bool isEventq = queueIndex == EventQueueIndex;
        _inEventDrain = isEventq;
        try
        {
            for (int i = 0; i < pending.Count && queue.IsReady && !queue.IsBroken; i++)
            {
                ushort head = pending[i];

                // VHOST-USER.md §10: resubmitted heads go through the normal rules (eventq: re-armed, held).
                if (queue.TryReadChain(head, out DescriptorChain chain, out VirtqueueError error))
                {
                    if (isEventq)
                    {
                        ProcessEventPair(queue, in chain);
                    }
                    else
                    {
                        ProcessRequest(queue, chain);
                    }

                    continue;
                }

                if (error is VirtqueueError.InvalidHeadIndex or VirtqueueError.QueueNotReady or VirtqueueError.QueueBroken)
                {
                    if (_logger.IsEnabled(LogLevel.Debug) && AcquireLogSlot())
                    {
                        DeviceLog.InflightHeadSkipped(_logger, queueIndex, head, error);
                    }

                    continue;
                }

                // A malformed resubmitted chain counts as in flight: complete it with used length 0.
                _metrics.ProtocolError();
                Complete(queue, queueIndex, head, 0);
            }
        }
        finally
        {
            _inEventDrain = false;
        }

        pending.Clear();
        NotifyIfNeeded(queueIndex);
    }

    private void OnHostLevelChanged(int lineNumber, LineValue level)
    {
        if (!_bank.TryGetLine(unchecked((ushort)lineNumber), out int line) || line != lineNumber)
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                DeviceLog.LineEventOutOfRange(_logger, lineNumber, LineCount - 1);
            }

            return;
        }

        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            if (_busy)
            {
                // Re-entered on the device's own thread from inside a backend call: apply after the current step.
                _deferredLevels.Enqueue(new KeyValuePair<int, LineValue>(line, level));
                return;
            }

            BeginOperation();
            try
            {
                _bank.OnLevelChanged(line, level);
            }
            finally
            {
                EndOperation();
            }
        }

        DispatchEvents();
    }

    private void DispatchEvents()
    {
        if (_interruptEvents.HasItems)
        {
            _interruptEvents.Drain(_deliverInterrupt, _onHandlerError);
        }

        if (_requestEvents.HasItems)
        {
            _requestEvents.Drain(_deliverRequest, _onHandlerError);
        }
    }

    private void OnInvalidChain(int queueIndex, ushort head, VirtqueueError error)
    {
        // Called by the engine under our lock after it completed a malformed chain with used length 0.
        _metrics.ProtocolError();
        if (_logger.IsEnabled(LogLevel.Debug) && AcquireLogSlot())
        {
            DeviceLog.InvalidChain(_logger, queueIndex, head, error);
        }
    }

    private bool AcquireLogSlot()
    {
        if (!_logLimiter.TryAcquire(out long suppressed))
        {
            return false;
        }

        if (suppressed > 0)
        {
            DeviceLog.Suppressed(_logger, suppressed);
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void LogRejectedRequest(ushort type, ushort line, uint value, RejectReason reason)
    {
        if (_logger.IsEnabled(LogLevel.Debug) && AcquireLogSlot())
        {
            DeviceLog.RequestRejected(_logger, type, line, value, reason);
        }
    }

    private void LogMalformedRequest(ushort head, uint length, RejectReason reason)
    {
        if (_logger.IsEnabled(LogLevel.Debug) && AcquireLogSlot())
        {
            DeviceLog.RequestChainMalformed(_logger, head, length, reason);
        }
    }

    private void LogEventPair(ushort head, int gpio, GpioIrqStatus status, RejectReason reason)
    {
        if (_logger.IsEnabled(LogLevel.Debug) && AcquireLogSlot())
        {
            DeviceLog.EventPairRejected(_logger, head, gpio, status == GpioIrqStatus.Valid ? "VALID" : "INVALID", reason);
        }
    }
}
