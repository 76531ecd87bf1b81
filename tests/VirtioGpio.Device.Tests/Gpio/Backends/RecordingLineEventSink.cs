// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Device.Tests.Gpio.Backends;

/// <summary>Records every sink call (line, level, timestamp, thread) for assertions.</summary>
internal sealed class RecordingLineEventSink : IGpioLineEventSink
{
    private readonly object _gate = new();
    private readonly List<(int Line, LineValue Level, DateTimeOffset Timestamp, int ThreadId)> _events = new();
    private int _inCall;

    public bool OverlappingCallSeen { get; private set; }

    public List<(int Line, LineValue Level, DateTimeOffset Timestamp, int ThreadId)> Events
    {
        get
        {
            lock (_gate)
            {
                return _events.ToList();
            }
        }
    }

    public void OnLineLevelChanged(int lineNumber, LineValue level, DateTimeOffset timestamp)
    {
        if (Interlocked.Increment(ref _inCall) != 1)
        {
            OverlappingCallSeen = true;
        }

        lock (_gate)
        {
            _events.Add((lineNumber, level, timestamp, Environment.CurrentManagedThreadId));
            Monitor.PulseAll(_gate);
        }

        Interlocked.Decrement(ref _inCall);
    }

    public void WaitForCount(int count, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            while (_events.Count < count)
            {
                TimeSpan left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException($"Expected {count} sink events within {timeout}, saw {_events.Count}.");
                }

                Monitor.Wait(_gate, left);
            }
        }
    }
}
