// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Internal;

/// <summary>
/// Fixed-window limiter for log entries a guest can trigger (COMMON.md: "rate-limited on guest-triggered
/// paths"): at most <c>maxPerWindow</c> entries per window; the rest are counted, and the count is handed
/// back once the next window opens so the caller can log "N suppressed". Not thread-safe: used under the
/// device lock. Allocation-free.
/// </summary>
internal sealed class LogRateLimiter
{
    private readonly TimeProvider _time;
    private readonly long _windowTicks;
    private readonly int _maxPerWindow;
    private long _windowStart;
    private int _countInWindow;
    private long _suppressed;
    private bool _started;

    public LogRateLimiter(TimeProvider time, TimeSpan window, int maxPerWindow)
    {
        _time = time;
        _windowTicks = Math.Max(1, (long)(window.TotalSeconds * time.TimestampFrequency));
        _maxPerWindow = Math.Max(1, maxPerWindow);
    }

    /// <summary>Total entries suppressed so far (diagnostics).</summary>
    public long TotalSuppressed { get; private set; }

    /// <summary>Whether one more entry may be logged now.</summary>
    /// <param name="suppressedBefore">Entries suppressed in the previous window(s), to report once; 0 usually.</param>
    /// <returns><see langword="true"/> when the entry may be logged.</returns>
    public bool TryAcquire(out long suppressedBefore)
    {
        long now = _time.GetTimestamp();
        suppressedBefore = 0;
        if (!_started || now - _windowStart >= _windowTicks || now < _windowStart)
        {
            _started = true;
            _windowStart = now;
            _countInWindow = 0;
            suppressedBefore = _suppressed;
            _suppressed = 0;
        }

        if (_countInWindow < _maxPerWindow)
        {
            _countInWindow++;
            return true;
        }

        _suppressed++;
        TotalSuppressed++;
        return false;
    }
}
