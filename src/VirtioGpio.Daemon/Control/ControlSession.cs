// SPDX-License-Identifier: MIT
using System.Threading.Channels;

namespace VirtioGpio.Daemon.Control;

/// <summary>
/// One control-socket client: its outgoing lines (responses and, once subscribed, events) in the order they must be
/// written. Responses are never dropped; events are dropped (and counted) when more than
/// <see cref="MaxPendingEvents"/> wait unsent, so a stalled client never blocks the device.
/// </summary>
internal sealed class ControlSession
{
    /// <summary>Most events queued for one client before further events are dropped.</summary>
    public const int MaxPendingEvents = 16384;

    /// <summary>Responses queued for a client that does not read before the daemon stops reading its requests.</summary>
    public const int MaxPendingResponses = 1024;

    private readonly Channel<ControlOutgoingLine> _outgoing = Channel.CreateUnbounded<ControlOutgoingLine>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    private int _pendingEvents;
    private int _pendingResponses;
    private long _droppedEvents;
    private volatile bool _subscribed;
    private volatile bool _completed;
    private volatile bool _includeHostEvents;

    /// <summary>Creates a session.</summary>
    /// <param name="id">A number for logs.</param>
    public ControlSession(long id)
    {
        Id = id;
    }

    /// <summary>A number for logs.</summary>
    public long Id { get; }

    /// <summary>Whether the client sent <c>subscribe</c>.</summary>
    public bool IsSubscribed => _subscribed;

    /// <summary>Responses queued but not yet written (the reader pauses above <see cref="MaxPendingResponses"/>).</summary>
    public int PendingResponses => Volatile.Read(ref _pendingResponses);

    /// <summary>Whether <see cref="Complete"/> was called (the writer stopped or the session ended).</summary>
    public bool IsCompleted => _completed;

    /// <summary>Events dropped because the client fell behind.</summary>
    public long DroppedEvents => Interlocked.Read(ref _droppedEvents);

    /// <summary>The lines to write, in order.</summary>
    public ChannelReader<ControlOutgoingLine> Outgoing => _outgoing.Reader;

    /// <summary>Raised (once per burst) when an event is dropped.</summary>
    public event EventHandler? EventDropped;

    /// <summary>Sets what the subscription delivers.</summary>
    /// <param name="subscribed">Whether events flow.</param>
    /// <param name="includeHostEvents">Whether host stimuli are reported too.</param>
    public void SetSubscription(bool subscribed, bool includeHostEvents)
    {
        _includeHostEvents = includeHostEvents;
        _subscribed = subscribed;
    }

    /// <summary>Whether an event of <paramref name="kind"/> is wanted.</summary>
    /// <param name="kind">The event kind.</param>
    /// <returns><see langword="true"/> when subscribed to it.</returns>
    public bool Wants(ControlEventKind kind) => _subscribed && (kind != ControlEventKind.HostLine || _includeHostEvents);

    /// <summary>Queues a response line.</summary>
    /// <param name="line">UTF-8 JSON ending in '\n'.</param>
    public void SendResponse(byte[] line)
    {
        Interlocked.Increment(ref _pendingResponses);
        if (!_outgoing.Writer.TryWrite(new ControlOutgoingLine(line, isEvent: false)))
        {
            Interlocked.Decrement(ref _pendingResponses);
        }
    }

    /// <summary>Queues an event line unless the client is too far behind.</summary>
    /// <param name="line">UTF-8 JSON ending in '\n'.</param>
    /// <returns>Whether it was queued.</returns>
    public bool TrySendEvent(byte[] line)
    {
        if (Interlocked.Increment(ref _pendingEvents) > MaxPendingEvents)
        {
            Interlocked.Decrement(ref _pendingEvents);
            if (Interlocked.Increment(ref _droppedEvents) == 1)
            {
                EventDropped?.Invoke(this, EventArgs.Empty);
            }

            return false;
        }

        if (!_outgoing.Writer.TryWrite(new ControlOutgoingLine(line, isEvent: true)))
        {
            Interlocked.Decrement(ref _pendingEvents);
            return false;
        }

        return true;
    }

    /// <summary>The writer calls this after taking a line from <see cref="Outgoing"/>.</summary>
    /// <param name="line">The line taken.</param>
    public void OnDequeued(in ControlOutgoingLine line)
    {
        if (line.IsEvent)
        {
            Interlocked.Decrement(ref _pendingEvents);
        }
        else
        {
            Interlocked.Decrement(ref _pendingResponses);
        }
    }

    /// <summary>Stops the session: nothing more is queued and the writer ends after the queued lines.</summary>
    public void Complete()
    {
        _completed = true;
        _subscribed = false;
        _outgoing.Writer.TryComplete();
    }
}
