// SPDX-License-Identifier: MIT
using System.Text.Json;
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Daemon.Control;

/// <summary>
/// The control protocol's view of one device (one <c>--socket</c>): its simulated lines, its state, and the events it
/// publishes to subscribers (line changes, interrupt deliveries, guest requests, front-end connections).
/// </summary>
internal sealed class ControlledDevice : IDisposable
{
    private readonly ControlEventHub _hub;
    private int _connected;

    /// <summary>Creates the view and starts publishing line changes of <paramref name="lines"/>.</summary>
    /// <param name="index">0-based position in <c>--socket</c> order (the <c>"device"</c> field).</param>
    /// <param name="lines">The simulated lines (they live as long as the process).</param>
    /// <param name="socketPath">The vhost-user socket path.</param>
    /// <param name="dialect">standard | draft.</param>
    /// <param name="hub">Where events go.</param>
    public ControlledDevice(int index, SimulatedGpioLineBackend lines, string socketPath, string dialect, ControlEventHub hub)
    {
        Index = index;
        Lines = lines;
        SocketPath = socketPath;
        Dialect = dialect;
        _hub = hub;
        Lines.LineChanged += OnLineChanged;
    }

    /// <summary>0-based device index.</summary>
    public int Index { get; }

    /// <summary>The simulated lines.</summary>
    public SimulatedGpioLineBackend Lines { get; }

    /// <summary>The vhost-user socket path.</summary>
    public string SocketPath { get; }

    /// <summary>standard | draft.</summary>
    public string Dialect { get; }

    /// <summary>Whether a vhost-user front-end is connected.</summary>
    public bool IsConnected => Volatile.Read(ref _connected) != 0;

    /// <summary>Records a front-end connection change and publishes <c>connected</c>/<c>disconnected</c>.</summary>
    /// <param name="connected">The new state.</param>
    public void SetConnected(bool connected)
    {
        Volatile.Write(ref _connected, connected ? 1 : 0);
        if (_hub.Wants(ControlEventKind.Connection))
        {
            _hub.Publish(ControlEventKind.Connection, ControlJson.Line((Index, connected), static (w, s) =>
            {
                w.WriteString("event", s.connected ? "connected" : "disconnected");
                w.WriteNumber("device", s.Index);
            }));
        }
    }

    /// <summary>Publishes an eventq completion (an interrupt delivery): <c>{"event":"irq","device":0,"line":3,"status":"valid"}</c>.</summary>
    /// <param name="line">The line of the completed eventq buffer (may be out of range when invalid).</param>
    /// <param name="valid">VIRTIO_GPIO_IRQ_STATUS_VALID (an interrupt) or INVALID (buffer returned unused).</param>
    public void PublishIrq(int line, bool valid)
    {
        if (_hub.Wants(ControlEventKind.Irq))
        {
            _hub.Publish(ControlEventKind.Irq, ControlJson.Line((Index, line, valid), static (w, s) =>
            {
                w.WriteString("event", "irq");
                w.WriteNumber("device", s.Index);
                w.WriteNumber("line", s.line);
                w.WriteString("status", s.valid ? "valid" : "invalid");
            }));
        }
    }

    /// <summary>Publishes a guest request: <c>{"event":"request","device":0,"type":"set-value","line":3,"value":1,"status":"ok"}</c>.</summary>
    /// <param name="type">Message type name (get-line-names, get-direction, set-direction, get-value, set-value, set-irq-type).</param>
    /// <param name="line">The line.</param>
    /// <param name="value">The request value.</param>
    /// <param name="ok">Whether the device answered OK.</param>
    public void PublishRequest(string type, int line, uint value, bool ok)
    {
        if (_hub.Wants(ControlEventKind.Request))
        {
            _hub.Publish(ControlEventKind.Request, ControlJson.Line((Index, type, line, value, ok), static (w, s) =>
            {
                w.WriteString("event", "request");
                w.WriteNumber("device", s.Index);
                w.WriteString("type", s.type);
                w.WriteNumber("line", s.line);
                w.WriteNumber("value", s.value);
                w.WriteString("status", s.ok ? "ok" : "err");
            }));
        }
    }

    /// <summary>Writes the state of one line as JSON properties (line, name, direction, value, irq, input).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="line">A valid line number.</param>
    public void WriteLineState(Utf8JsonWriter writer, int line)
    {
        writer.WriteNumber("line", line);
        writer.WriteString("name", Lines.Names[line]);
        writer.WriteString("direction", ControlJson.DirectionName(Lines.GetDirection(line)));
        writer.WriteNumber("value", (byte)Lines.GetLevel(line));
        writer.WriteString("irq", ControlJson.IrqTypeName(Lines.GetIrqType(line)));
        writer.WriteNumber("input", (byte)Lines.GetInputLevel(line));
    }

    /// <summary>Stops publishing line changes.</summary>
    public void Dispose() => Lines.LineChanged -= OnLineChanged;

    private void OnLineChanged(object? sender, GpioLineChange change)
    {
        ControlEventKind kind = change.Source == GpioLineChangeSource.Guest ? ControlEventKind.GuestLine : ControlEventKind.HostLine;
        if (!_hub.Wants(kind))
        {
            return;
        }

        _hub.Publish(kind, ControlJson.Line((Index, change), static (w, s) =>
        {
            GpioLineChange c = s.change;
            w.WriteString("event", "line");
            w.WriteNumber("device", s.Index);
            w.WriteNumber("line", c.LineNumber);
            w.WriteNumber("value", (byte)c.NewValue);
            w.WriteNumber("old", (byte)c.OldValue);
            w.WriteString("direction", ControlJson.DirectionName(c.Direction));
            w.WriteString("irq", ControlJson.IrqTypeName(c.IrqType));
            w.WriteString("source", c.Source == GpioLineChangeSource.Guest ? "guest" : "host");
            w.WriteBoolean("applied", c.Applied);
            w.WriteNumber("seq", c.SequenceNumber);
            w.WriteString("time", ControlJson.Time(c.Timestamp));
        }));
    }
}
