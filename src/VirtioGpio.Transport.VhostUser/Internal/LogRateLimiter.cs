// SPDX-License-Identifier: MIT
using System.Diagnostics;

namespace VirtioGpio.Transport.VhostUser.Internal;

/// <summary>
/// A fixed-window limiter for warnings a front-end or guest can trigger at will: at most
/// <see cref="MaxPerWindow"/> per second; the number suppressed is reported once the next window opens.
/// Single-threaded (the connection's event loop).
/// </summary>
internal sealed class LogRateLimiter
{
    /// <summary>Messages allowed per one-second window.</summary>
    public const int MaxPerWindow = 20;

    private long _windowStart = Stopwatch.GetTimestamp();
    private int _count;
    private long _suppressed;

    /// <summary>Whether a message may be logged now; <paramref name="suppressedBefore"/> is the count to report first (0 for none).</summary>
    public bool TryAcquire(out long suppressedBefore)
    {
        suppressedBefore = 0;
        long now = Stopwatch.GetTimestamp();
        if (now - _windowStart >= Stopwatch.Frequency)
        {
            _windowStart = now;
            _count = 0;
            suppressedBefore = _suppressed;
            _suppressed = 0;
        }

        if (_count < MaxPerWindow)
        {
            _count++;
            return true;
        }

        _suppressed++;
        return false;
    }
}
