// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Text.Json;
using VirtioGpio.Daemon.Diagnostics;
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Daemon.Control;

/// <summary>
/// Executes control-protocol requests (docs/control-protocol.md): one JSON object per line in, exactly one JSON line
/// out per request (<c>{"ok":true,…}</c> or <c>{"ok":false,"error":"…"}</c>), queued on the session in request order.
/// A malformed request never affects the connection. Independent of sockets, so tests drive it in-process.
/// </summary>
internal sealed class ControlProtocolHandler
{
    /// <summary>Longest accepted pulse width.</summary>
    public const int MaxPulseWidthMs = 60_000;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };

    private readonly IReadOnlyList<ControlledDevice> _devices;
    private readonly ControlEventHub _hub;
    private readonly TimeProvider _time;
    private readonly DaemonMetrics? _metrics;

    /// <summary>Creates the handler.</summary>
    /// <param name="devices">The devices in <c>--socket</c> order.</param>
    /// <param name="hub">Where <c>subscribe</c> registers sessions.</param>
    /// <param name="time">Clock for pulse widths.</param>
    /// <param name="metrics">Request counters, optional.</param>
    public ControlProtocolHandler(IReadOnlyList<ControlledDevice> devices, ControlEventHub hub, TimeProvider? time = null, DaemonMetrics? metrics = null)
    {
        if (devices.Count == 0)
        {
            throw new ArgumentException("At least one device is required.", nameof(devices));
        }

        _devices = devices;
        _hub = hub;
        _time = time ?? TimeProvider.System;
        _metrics = metrics;
    }

    /// <summary>Handles one request line and queues its response on <paramref name="session"/>.</summary>
    /// <param name="line">The request (UTF-8, without the newline).</param>
    /// <param name="session">The client.</param>
    /// <param name="cancellationToken">Cancels a pending pulse (the line is still restored).</param>
    /// <returns>The command name ("?" when unparseable) and whether it succeeded.</returns>
    public async ValueTask<(string Command, bool Ok)> HandleAsync(ReadOnlyMemory<byte> line, ControlSession session, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, DocumentOptions);
        }
        catch (JsonException ex)
        {
            return Reply(session, "?", ControlJson.Error("bad JSON: " + FirstSentence(ex.Message)), ok: false);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Reply(session, "?", ControlJson.Error("a request must be a JSON object, e.g. {\"cmd\":\"list\"}"), ok: false);
            }

            JsonElement? id = root.TryGetProperty("id", out JsonElement idElement) ? idElement.Clone() : null;
            if (!root.TryGetProperty("cmd", out JsonElement cmdElement) || cmdElement.ValueKind != JsonValueKind.String)
            {
                return Reply(session, "?", ControlJson.Error("missing string field \"cmd\" (list, get, set, pulse, subscribe, unsubscribe, devices)", id), ok: false);
            }

            string cmd = cmdElement.GetString() ?? string.Empty;
            try
            {
                byte[] response = cmd switch
                {
                    "list" => List(root, id),
                    "get" => Get(root, id),
                    "set" => Set(root, id),
                    "pulse" => await PulseAsync(root, id, cancellationToken).ConfigureAwait(false),
                    "subscribe" => Subscribe(root, id, session),
                    "unsubscribe" => Unsubscribe(id, session),
                    "devices" => Devices(id),
                    _ => throw new ControlRequestException($"unknown command \"{cmd}\" (list, get, set, pulse, subscribe, unsubscribe, devices)"),
                };
                return Reply(session, KnownCommand(cmd), response, ok: true);
            }
            catch (ControlRequestException ex)
            {
                return Reply(session, KnownCommand(cmd), ControlJson.Error(ex.Message, id), ok: false);
            }
        }
    }

    /// <summary>Answers a request line that exceeded the size limit.</summary>
    /// <param name="session">The client.</param>
    /// <param name="limit">The limit in bytes.</param>
    public void RejectOversized(ControlSession session, int limit)
        => Reply(session, "?", ControlJson.Error($"request line longer than {limit.ToString(CultureInfo.InvariantCulture)} bytes"), ok: false);

    private (string, bool) Reply(ControlSession session, string command, byte[] response, bool ok)
    {
        if (response.Length != 0)
        {
            // Empty: the command queued its own response (subscribe, to order it before the first event).
            session.SendResponse(response);
        }

        _metrics?.ControlRequest(command, ok);
        return (command, ok);
    }

    private static string KnownCommand(string cmd) => cmd switch
    {
        "list" or "get" or "set" or "pulse" or "subscribe" or "unsubscribe" or "devices" => cmd,
        _ => "unknown",
    };

    private byte[] List(JsonElement root, JsonElement? id)
    {
        ControlledDevice device = GetDevice(root);
        return ControlJson.Line((device, id), static (w, s) =>
        {
            w.WriteBoolean("ok", true);
            ControlJson.WriteId(w, s.id);
            w.WriteNumber("device", s.device.Index);
            w.WriteStartArray("lines");
            int count = s.device.Lines.LineCount;
            for (int i = 0; i < count; i++)
            {
                w.WriteStartObject();
                s.device.WriteLineState(w, i);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private byte[] Get(JsonElement root, JsonElement? id)
    {
        ControlledDevice device = GetDevice(root);
        int line = GetLine(root, device);
        return ControlJson.Line((device, line, id), static (w, s) =>
        {
            w.WriteBoolean("ok", true);
            ControlJson.WriteId(w, s.id);
            w.WriteNumber("device", s.device.Index);
            s.device.WriteLineState(w, s.line);
        });
    }

    private byte[] Set(JsonElement root, JsonElement? id)
    {
        ControlledDevice device = GetDevice(root);
        int line = GetLine(root, device);
        LineValue value = GetValue(root, required: true);
        device.Lines.SetInputLevel(line, value);
        return OkApplied(device, line, id);
    }

    private async ValueTask<byte[]> PulseAsync(JsonElement root, JsonElement? id, CancellationToken cancellationToken)
    {
        ControlledDevice device = GetDevice(root);
        int line = GetLine(root, device);
        LineValue active = GetValue(root, required: false);
        int width = GetWidth(root);
        if (width == 0)
        {
            // Two edges at once: into the active level and back (SimulatedGpioLineBackend.Pulse is atomic).
            device.Lines.Pulse(line, active);
        }
        else
        {
            device.Lines.SetInputLevel(line, active.Invert());
            device.Lines.SetInputLevel(line, active);
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(width), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The daemon is stopping: still end the pulse below.
            }
            finally
            {
                device.Lines.SetInputLevel(line, active.Invert());
            }
        }

        return OkApplied(device, line, id);
    }

    private byte[] Subscribe(JsonElement root, JsonElement? id, ControlSession session)
    {
        bool host = false;
        if (root.TryGetProperty("host", out JsonElement hostElement))
        {
            host = hostElement.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new ControlRequestException("field \"host\" must be true or false"),
            };
        }

        // The response is queued before the session can receive events, so {"ok":true} always comes first.
        byte[] response = Ok(id);
        session.SendResponse(response);
        session.SetSubscription(subscribed: true, includeHostEvents: host);
        _hub.Add(session);
        return [];
    }

    private byte[] Unsubscribe(JsonElement? id, ControlSession session)
    {
        session.SetSubscription(subscribed: false, includeHostEvents: false);
        _hub.Remove(session);
        return Ok(id);
    }

    private byte[] Devices(JsonElement? id) => ControlJson.Line((_devices, id), static (w, s) =>
    {
        w.WriteBoolean("ok", true);
        ControlJson.WriteId(w, s.id);
        w.WriteStartArray("devices");
        foreach (ControlledDevice device in s._devices)
        {
            w.WriteStartObject();
            w.WriteNumber("device", device.Index);
            w.WriteString("socket", device.SocketPath);
            w.WriteString("dialect", device.Dialect);
            w.WriteNumber("lines", device.Lines.LineCount);
            w.WriteBoolean("connected", device.IsConnected);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    private static byte[] Ok(JsonElement? id) => ControlJson.Line(id, static (w, i) =>
    {
        w.WriteBoolean("ok", true);
        ControlJson.WriteId(w, i);
    });

    private static byte[] OkApplied(ControlledDevice device, int line, JsonElement? id)
    {
        // SimulatedGpioLineBackend: a stimulus on a guest output is recorded but not driven.
        bool applied = device.Lines.GetDirection(line) != GpioDirection.Output;
        return ControlJson.Line((applied, id), static (w, s) =>
        {
            w.WriteBoolean("ok", true);
            ControlJson.WriteId(w, s.id);
            w.WriteBoolean("applied", s.applied);
        });
    }

    private ControlledDevice GetDevice(JsonElement root)
    {
        if (!root.TryGetProperty("device", out JsonElement element))
        {
            return _devices[0];
        }

        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out int index))
        {
            throw new ControlRequestException("field \"device\" must be an integer");
        }

        if ((uint)index >= (uint)_devices.Count)
        {
            throw new ControlRequestException($"device {index.ToString(CultureInfo.InvariantCulture)} out of range (0..{(_devices.Count - 1).ToString(CultureInfo.InvariantCulture)})");
        }

        return _devices[index];
    }

    private static int GetLine(JsonElement root, ControlledDevice device)
    {
        if (!root.TryGetProperty("line", out JsonElement element))
        {
            throw new ControlRequestException("missing field \"line\" (a line number or a line name)");
        }

        int count = device.Lines.LineCount;
        if (element.ValueKind == JsonValueKind.String)
        {
            string name = element.GetString() ?? string.Empty;
            if (name.Length != 0)
            {
                GpioLineNames names = device.Lines.Names;
                for (int i = 0; i < count; i++)
                {
                    if (string.Equals(names[i], name, StringComparison.Ordinal))
                    {
                        return i;
                    }
                }
            }

            throw new ControlRequestException($"no line named \"{name}\" on device {device.Index.ToString(CultureInfo.InvariantCulture)}");
        }

        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out int line))
        {
            throw new ControlRequestException("field \"line\" must be an integer or a line name");
        }

        if ((uint)line >= (uint)count)
        {
            throw new ControlRequestException($"line {line.ToString(CultureInfo.InvariantCulture)} out of range (0..{(count - 1).ToString(CultureInfo.InvariantCulture)})");
        }

        return line;
    }

    private static LineValue GetValue(JsonElement root, bool required)
    {
        if (!root.TryGetProperty("value", out JsonElement element))
        {
            if (required)
            {
                throw new ControlRequestException("missing field \"value\" (0 or 1)");
            }

            return LineValue.High;
        }

        return element.ValueKind switch
        {
            JsonValueKind.True => LineValue.High,
            JsonValueKind.False => LineValue.Low,
            JsonValueKind.Number when element.TryGetInt32(out int v) && v is 0 or 1 => v == 1 ? LineValue.High : LineValue.Low,
            _ => throw new ControlRequestException("field \"value\" must be 0 or 1"),
        };
    }

    private static int GetWidth(JsonElement root)
    {
        if (!root.TryGetProperty("width_ms", out JsonElement element))
        {
            return 0;
        }

        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out int width) || width < 0 || width > MaxPulseWidthMs)
        {
            throw new ControlRequestException($"field \"width_ms\" must be an integer 0..{MaxPulseWidthMs.ToString(CultureInfo.InvariantCulture)}");
        }

        return width;
    }

    private static string FirstSentence(string message)
    {
        string oneLine = message.ReplaceLineEndings(" ");
        int cut = oneLine.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? oneLine[..cut] : oneLine).Trim();
    }

    private sealed class ControlRequestException : Exception
    {
        public ControlRequestException(string message)
            : base(message)
        {
        }
    }
}
