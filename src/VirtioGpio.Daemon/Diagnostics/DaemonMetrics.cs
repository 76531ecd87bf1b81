// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace VirtioGpio.Daemon.Diagnostics;

/// <summary>
/// The daemon's own instruments on the shared meter <c>"VirtioGpio"</c> (requests, errors, interrupts and
/// notifications come from the device and the transport). Read them with
/// <c>dotnet-counters monitor -n virtio-gpio --counters VirtioGpio</c>.
/// </summary>
internal sealed class DaemonMetrics : IDisposable
{
    /// <summary>The meter name shared by every VirtioGpio component.</summary>
    public const string MeterName = "VirtioGpio";

    private readonly Meter _meter;
    private readonly Counter<long> _frontendConnections;
    private readonly Counter<long> _frontendReconnects;
    private readonly UpDownCounter<long> _frontendActive;
    private readonly UpDownCounter<long> _controlClients;
    private readonly Counter<long> _controlRequests;
    private readonly Counter<long> _controlErrors;
    private readonly Counter<long> _controlEventsDropped;

    public DaemonMetrics()
    {
        _meter = new Meter(MeterName);
        _frontendConnections = _meter.CreateCounter<long>("virtio_gpio.daemon.frontend.connections", "{connection}", "vhost-user front-end connections accepted");
        _frontendReconnects = _meter.CreateCounter<long>("virtio_gpio.daemon.frontend.reconnects", "{connection}", "vhost-user front-end connections after the first one of a device");
        _frontendActive = _meter.CreateUpDownCounter<long>("virtio_gpio.daemon.frontend.active", "{connection}", "vhost-user front-ends currently connected");
        _controlClients = _meter.CreateUpDownCounter<long>("virtio_gpio.daemon.control.clients", "{client}", "control-socket clients currently connected");
        _controlRequests = _meter.CreateCounter<long>("virtio_gpio.daemon.control.requests", "{request}", "control-socket requests handled");
        _controlErrors = _meter.CreateCounter<long>("virtio_gpio.daemon.control.errors", "{request}", "control-socket requests answered with ok=false");
        _controlEventsDropped = _meter.CreateCounter<long>("virtio_gpio.daemon.control.events_dropped", "{event}", "events not sent to a subscriber that fell too far behind");
    }

    public void FrontendConnected(int device, bool reconnect)
    {
        var tag = new KeyValuePair<string, object?>("device", device);
        _frontendConnections.Add(1, tag);
        _frontendActive.Add(1, tag);
        if (reconnect)
        {
            _frontendReconnects.Add(1, tag);
        }
    }

    public void FrontendDisconnected(int device) => _frontendActive.Add(-1, new KeyValuePair<string, object?>("device", device));

    public void ControlClientConnected() => _controlClients.Add(1);

    public void ControlClientDisconnected() => _controlClients.Add(-1);

    public void ControlRequest(string command, bool ok)
    {
        var tags = new TagList { { "cmd", command } };
        _controlRequests.Add(1, tags);
        if (!ok)
        {
            _controlErrors.Add(1, tags);
        }
    }

    public void ControlEventDropped() => _controlEventsDropped.Add(1);

    public void Dispose() => _meter.Dispose();
}
