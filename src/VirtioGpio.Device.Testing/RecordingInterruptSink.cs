// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing;

/// <summary>
/// An <see cref="IVirtioInterruptSink"/> that records every notification in order and lets a test
/// wait for the next one (always with a timeout). Thread-safe: devices may notify from any thread.
/// </summary>
public sealed class RecordingInterruptSink : IVirtioInterruptSink
{
    private readonly object _sync = new();
    private readonly List<InterruptRecord> _records = new();
    private readonly Dictionary<int, long> _perQueue = new();
    private long _configChanges;

    /// <summary>Total notifications so far; changes on every notification (use with <see cref="WaitForNotification"/>).</summary>
    public long Version
    {
        get
        {
            lock (_sync)
            {
                return _records.Count;
            }
        }
    }

    /// <summary>Number of configuration-change notifications.</summary>
    public long ConfigChangeCount
    {
        get
        {
            lock (_sync)
            {
                return _configChanges;
            }
        }
    }

    /// <summary>A snapshot of every notification, oldest first.</summary>
    public IReadOnlyList<InterruptRecord> Records
    {
        get
        {
            lock (_sync)
            {
                return _records.ToArray();
            }
        }
    }

    /// <summary>Number of used-buffer notifications for <paramref name="queueIndex"/>.</summary>
    /// <param name="queueIndex">The queue.</param>
    /// <returns>The count.</returns>
    public long GetUsedBufferNotificationCount(int queueIndex)
    {
        lock (_sync)
        {
            return _perQueue.TryGetValue(queueIndex, out long count) ? count : 0;
        }
    }

    /// <inheritdoc/>
    public void NotifyUsedBuffers(int queueIndex) => Add(queueIndex);

    /// <inheritdoc/>
    public void NotifyConfigChange() => Add(-1);

    /// <summary>Waits until <see cref="Version"/> differs from <paramref name="observedVersion"/>.</summary>
    /// <param name="observedVersion">The version the caller last saw.</param>
    /// <param name="timeout">The longest wait.</param>
    /// <returns><see langword="false"/> on timeout.</returns>
    public bool WaitForNotification(long observedVersion, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_sync)
        {
            while (_records.Count == observedVersion)
            {
                long remaining = deadline - Environment.TickCount64;
                if (remaining <= 0)
                {
                    return false;
                }

                Monitor.Wait(_sync, TimeSpan.FromMilliseconds(remaining));
            }

            return true;
        }
    }

    /// <summary>Forgets every recorded notification (counters restart at 0).</summary>
    public void Clear()
    {
        lock (_sync)
        {
            _records.Clear();
            _perQueue.Clear();
            _configChanges = 0;
            Monitor.PulseAll(_sync);
        }
    }

    private void Add(int queueIndex)
    {
        lock (_sync)
        {
            _records.Add(new InterruptRecord(_records.Count, queueIndex));
            if (queueIndex < 0)
            {
                _configChanges++;
            }
            else
            {
                _perQueue[queueIndex] = (_perQueue.TryGetValue(queueIndex, out long count) ? count : 0) + 1;
            }

            Monitor.PulseAll(_sync);
        }
    }
}
