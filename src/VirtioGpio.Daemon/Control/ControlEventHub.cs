// SPDX-License-Identifier: MIT
namespace VirtioGpio.Daemon.Control;

/// <summary>Fans event lines out to every subscribed control session. Thread-safe; publishing never blocks.</summary>
internal sealed class ControlEventHub
{
    private readonly object _gate = new();
    private ControlSession[] _sessions = [];

    /// <summary>Whether any session is registered (publishers skip serialisation when none is).</summary>
    public bool HasSubscribers => Volatile.Read(ref _sessions).Length != 0;

    /// <summary>Whether some session wants <paramref name="kind"/>.</summary>
    /// <param name="kind">The event kind.</param>
    /// <returns><see langword="true"/> when an event of that kind would be delivered.</returns>
    public bool Wants(ControlEventKind kind)
    {
        foreach (ControlSession session in Volatile.Read(ref _sessions))
        {
            if (session.Wants(kind))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Registers a session (idempotent).</summary>
    /// <param name="session">The session.</param>
    public void Add(ControlSession session)
    {
        lock (_gate)
        {
            if (Array.IndexOf(_sessions, session) < 0)
            {
                _sessions = [.. _sessions, session];
            }
        }
    }

    /// <summary>Unregisters a session (idempotent).</summary>
    /// <param name="session">The session.</param>
    public void Remove(ControlSession session)
    {
        lock (_gate)
        {
            int index = Array.IndexOf(_sessions, session);
            if (index >= 0)
            {
                var copy = new List<ControlSession>(_sessions);
                copy.RemoveAt(index);
                _sessions = [.. copy];
            }
        }
    }

    /// <summary>Sends an event line to every session that wants its kind.</summary>
    /// <param name="kind">The event kind.</param>
    /// <param name="line">UTF-8 JSON ending in '\n'.</param>
    public void Publish(ControlEventKind kind, byte[] line)
    {
        foreach (ControlSession session in Volatile.Read(ref _sessions))
        {
            if (session.Wants(kind))
            {
                session.TrySendEvent(line);
            }
        }
    }
}
