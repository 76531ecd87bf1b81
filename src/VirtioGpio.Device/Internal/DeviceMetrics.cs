// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Diagnostics.Metrics;

namespace VirtioGpio.Device.Internal;

/// <summary>
/// The device's instruments on the meter "VirtioGpio" (COMMON.md). Counts are tallied in plain fields on the
/// hot path and flushed once per processed batch, so a request costs no instrument call.
/// </summary>
internal sealed class DeviceMetrics
{
    /// <summary>The meter name shared by every VirtioGpio component.</summary>
    public const string MeterName = "VirtioGpio";

    private static readonly Meter SharedMeter = new(MeterName);

    private static readonly string[] TypeNames =
    {
        "unknown", "get-line-names", "get-direction", "set-direction", "get-value", "set-value", "set-irq-type",
    };

    private readonly Meter _meter;
    private readonly KeyValuePair<string, object?> _dialect;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _interrupts;
    private readonly Counter<long> _notifications;
    private readonly Counter<long> _protocolErrors;
    private readonly long[] _requestTally = new long[TypeNames.Length];
    private readonly long[] _errorTally = new long[TypeNames.Length];
    private long _validTally;
    private long _invalidTally;
    private long _protocolTally;
    private bool _dirty;

    public DeviceMetrics(IMeterFactory? factory, string dialect)
    {
        if (factory is null)
        {
            _meter = SharedMeter;
        }
        else
        {
            _meter = factory.Create(new MeterOptions(MeterName)); // the factory owns (and disposes) it
        }

        _dialect = new KeyValuePair<string, object?>("virtio.gpio.dialect", dialect);
        _requests = _meter.CreateCounter<long>("virtio_gpio.requests", "{request}", "requestq messages processed");
        _errors = _meter.CreateCounter<long>("virtio_gpio.request_errors", "{request}", "requestq messages answered with ERR");
        _interrupts = _meter.CreateCounter<long>("virtio_gpio.interrupts", "{event}", "eventq pairs returned (VALID or INVALID)");
        _notifications = _meter.CreateCounter<long>("virtio_gpio.notifications", "{notification}", "used-buffer notifications sent to the driver");
        _protocolErrors = _meter.CreateCounter<long>("virtio_gpio.protocol_errors", "{chain}", "malformed chains (completed with used length 0 or answered INVALID)");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Request(ushort type, bool error)
    {
        int index = type < TypeNames.Length ? type : 0;
        _requestTally[index]++;
        if (error)
        {
            _errorTally[index]++;
        }

        _dirty = true;
    }

    public void Interrupt(bool valid)
    {
        if (valid)
        {
            _validTally++;
        }
        else
        {
            _invalidTally++;
        }

        _dirty = true;
    }

    public void ProtocolError()
    {
        _protocolTally++;
        _dirty = true;
    }

    public void Notification(int queueIndex)
    {
        if (_notifications.Enabled)
        {
            _notifications.Add(1, _dialect, new KeyValuePair<string, object?>("virtio.queue", queueIndex == 0 ? "requestq" : "eventq"));
        }
    }

    /// <summary>Publishes the tallies (called under the device lock at the end of a batch).</summary>
    public void Flush()
    {
        if (!_dirty)
        {
            return;
        }

        _dirty = false;
        for (int i = 0; i < TypeNames.Length; i++)
        {
            long n = _requestTally[i];
            if (n != 0)
            {
                _requestTally[i] = 0;
                if (_requests.Enabled)
                {
                    _requests.Add(n, _dialect, new KeyValuePair<string, object?>("gpio.message", TypeNames[i]));
                }
            }

            long e = _errorTally[i];
            if (e != 0)
            {
                _errorTally[i] = 0;
                if (_errors.Enabled)
                {
                    _errors.Add(e, _dialect, new KeyValuePair<string, object?>("gpio.message", TypeNames[i]));
                }
            }
        }

        if (_validTally != 0)
        {
            if (_interrupts.Enabled)
            {
                _interrupts.Add(_validTally, _dialect, new KeyValuePair<string, object?>("gpio.irq_status", "valid"));
            }

            _validTally = 0;
        }

        if (_invalidTally != 0)
        {
            if (_interrupts.Enabled)
            {
                _interrupts.Add(_invalidTally, _dialect, new KeyValuePair<string, object?>("gpio.irq_status", "invalid"));
            }

            _invalidTally = 0;
        }

        if (_protocolTally != 0)
        {
            if (_protocolErrors.Enabled)
            {
                _protocolErrors.Add(_protocolTally, _dialect);
            }

            _protocolTally = 0;
        }
    }
}
