// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
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
                DescriptorChain chain;
                VirtqueueError error;
                while (queue.TryPopAvailable(out chain, out error))
                {
                    if (isEventq)
                    {
                        ProcessEventPair(queue, in chain);
                    }
                    else
                    {
                        ProcessRequest(queue, in chain);
                    }
                }

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

    // ------------------------------------------------------------------------------------------------
    // requestq (VIRTIO 1.3 §5.18.6 "Device Operation: requestq"; STANDARD.md §4)
    // ------------------------------------------------------------------------------------------------

    private void ProcessRequest(SplitQueue queue, in DescriptorChain chain)
    {
        ushort head = chain.HeadIndex;
        uint writable = chain.WritableLength;
        if (writable == 0)
        {
            RejectWithoutResponseBuffer(queue, head);
            return;
        }

        // G1: the request is the first 8 bytes of the concatenated readable buffers, whatever the split (VDG-2).
        // It is copied once, into a register, and every decision is made on that copy.
        if (!chain.TryCopyFromReadable(out ulong wire))
        {
            RejectShortRequest(queue, in chain);
            return;
        }

        GpioRequest request = GpioCodec.DecodeRequest(wire);
        if (request.Type == GpioMessageType.GetLineNames)
        {
            ProcessLineNames(queue, in chain, request);
            return;
        }

        GpioStatus status;
        byte value = 0;
        RejectReason reason;
        if (writable < GpioResponse.Size)
        {
            // STANDARD.md §4.4: a response buffer that is too small gets ERR in what fits; nothing is executed.
            status = GpioStatus.Err;
            reason = RejectReason.ResponseBufferTooSmall;
        }
        else if (!_bank.TryGetLine(request.Line, out int line))
        {
            // §4.4: gpio >= ngpio → ERR, never an array index (VDG-1 / N1). Unknown types with a bad line land here too.
            status = GpioStatus.Err;
            reason = GpioCodec.IsKnownMessageType(request.Type) ? RejectReason.LineOutOfRange : RejectReason.UnknownType;
        }
        else
        {
            // GET_VALUE (polling: the most frequent request) inline; the others out of line.
            status = request.Type == GpioMessageType.GetValue
                ? _bank.GetValue(line, out value, out reason)
                : ExecuteLineRequest(request.Type, line, request.Value, out value, out reason);
        }

        // D1: every field is set; on failure the value byte is zeroed. Used length = bytes written: exactly 2 on a
        // well-formed chain, what fits otherwise (G4; VDG-4 / N4).
        if (status != GpioStatus.Ok)
        {
            value = 0;
        }

        // virtio_gpio_response: u8 status; u8 value (VIRTIO 1.3 §5.18.6 "Device Operation: requestq"), in memory order.
        ushort response = (ushort)((uint)status | ((uint)value << 8));
        if (!BitConverter.IsLittleEndian)
        {
            response = BinaryPrimitives.ReverseEndianness(response);
        }

        uint written = chain.TryCopyToWritable(response) ? GpioResponse.Size : WriteResponseWhatFits(in chain, response);
        Complete(queue, RequestQueueIndex, head, written);
        AfterRequest(request, status, value, reason);
    }

    /// <summary>Every request type but GET_VALUE and GET_LINE_NAMES, on a validated line (STANDARD.md §4.4).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private GpioStatus ExecuteLineRequest(GpioMessageType type, int line, uint requestValue, out byte value, out RejectReason reason)
    {
        value = 0;
        switch (type)
        {
            case GpioMessageType.SetValue:
                return _bank.SetValue(line, requestValue, out reason);
            case GpioMessageType.GetDirection:
                return _bank.GetDirection(line, out value, out reason);
            case GpioMessageType.SetDirection:
                return _bank.SetDirection(line, requestValue, out reason);
            case GpioMessageType.SetIrqType:
                return _bank.SetIrqType(line, requestValue, _irqNegotiated, out reason);
            default:
                reason = RejectReason.UnknownType; // §4.4: unknown type → ERR
                return GpioStatus.Err;
        }
    }

    /// <summary>G4 / STANDARD.md §4.4: a response buffer split over descriptors, or too small: write what fits.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // cold: keeps ProcessRequest's frame small
    private static uint WriteResponseWhatFits(in DescriptorChain chain, ushort response)
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
    private void RejectShortRequest(SplitQueue queue, in DescriptorChain chain)
    {
        DescriptorChainWriter writer = chain.CreateWriter();
        WriteError(ref writer, 1);
        _metrics.ProtocolError();
        LogMalformedRequest(chain.HeadIndex, writer.BytesWritten, RejectReason.ShortRequest);
        Complete(queue, RequestQueueIndex, chain.HeadIndex, writer.BytesWritten);
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // cold: keeps ProcessRequest's frame small
    private void ProcessLineNames(SplitQueue queue, in DescriptorChain chain, GpioRequest request)
    {
        DescriptorChainWriter writer = chain.CreateWriter();
        // STANDARD.md §4.4: gpio and value of GET_LINE_NAMES are ignored (lenient); D3: no names → ERR.
        uint size = _namesSize;
        GpioStatus status = GpioStatus.Err;
        RejectReason reason;
        if (size == 0)
        {
            reason = RejectReason.LineNamesNotSupported;
            WriteError(ref writer, 1);
        }
        else if (chain.WritableLength < 1 + (ulong)size)
        {
            reason = RejectReason.ResponseBufferTooSmall;
            WriteError(ref writer, (int)size);
        }
        else
        {
            // response_N: status OK, then the N-byte names block (§5; D4).
            Span<byte> ok = stackalloc byte[1];
            ok[0] = (byte)GpioStatus.Ok;
            writer.Write(ok);
            writer.Write(_names.Block);
            status = GpioStatus.Ok;
            reason = RejectReason.None;
        }

        Complete(queue, RequestQueueIndex, chain.HeadIndex, writer.BytesWritten);
        AfterRequest(request, status, 0, reason);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AfterRequest(GpioRequest request, GpioStatus status, byte value, RejectReason reason)
    {
        bool failed = status != GpioStatus.Ok;
        _metrics.Request((ushort)request.Type, failed);
        if (failed)
        {
            LogRejectedRequest((ushort)request.Type, request.Line, request.Value, reason);
        }

        if (RequestProcessed is not null)
        {
            _requestEvents.Post(new GpioRequestEvent(request.Type, request.Line, request.Value, status, value, _time.GetUtcNow()));
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
                        ProcessRequest(queue, in chain);
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
