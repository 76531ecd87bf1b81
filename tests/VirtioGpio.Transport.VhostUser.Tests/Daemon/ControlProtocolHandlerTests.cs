// SPDX-License-Identifier: MIT
using System.Text;
using System.Text.Json;
using VirtioGpio.Daemon.Control;
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Transport.VhostUser.Tests.Daemon;

/// <summary>The control protocol handler in-process, over real simulated lines (docs/control-protocol.md).</summary>
public sealed class ControlProtocolHandlerTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly SimulatedGpioLineBackend _lines = new(new GpioLineNames(["LED0", "", "BTN1", "RELAY"]));
    private readonly SimulatedGpioLineBackend _lines2 = new(2);
    private readonly ControlEventHub _hub = new();
    private readonly ControlledDevice _device;
    private readonly ControlledDevice _device2;
    private readonly ControlProtocolHandler _handler;
    private readonly ControlSession _session = new(1);

    public ControlProtocolHandlerTests()
    {
        _device = new ControlledDevice(0, _lines, "/run/a.sock", "standard", _hub);
        _device2 = new ControlledDevice(1, _lines2, "/run/b.sock", "draft", _hub);
        _handler = new ControlProtocolHandler([_device, _device2], _hub);
    }

    public void Dispose()
    {
        _device.Dispose();
        _device2.Dispose();
        _lines.Dispose();
        _lines2.Dispose();
    }

    [Fact]
    public async Task List_ReportsEveryLineWithNameDirectionValueAndIrq()
    {
        JsonElement r = await RequestAsync("""{"cmd":"list"}""");
        Assert.True(r.GetProperty("ok").GetBoolean());
        JsonElement[] lines = [.. r.GetProperty("lines").EnumerateArray()];
        Assert.Equal(4, lines.Length);
        Assert.Equal(0, lines[0].GetProperty("line").GetInt32());
        Assert.Equal("LED0", lines[0].GetProperty("name").GetString());
        Assert.Equal("", lines[1].GetProperty("name").GetString());
        Assert.Equal("RELAY", lines[3].GetProperty("name").GetString());
        Assert.All(lines, l => Assert.Equal("none", l.GetProperty("direction").GetString()));
        Assert.All(lines, l => Assert.Equal(0, l.GetProperty("value").GetInt32()));
        Assert.All(lines, l => Assert.Equal("none", l.GetProperty("irq").GetString()));
    }

    [Fact]
    public async Task List_OfSecondDevice_UsesDeviceField()
    {
        JsonElement r = await RequestAsync("""{"cmd":"list","device":1}""");
        Assert.Equal(1, r.GetProperty("device").GetInt32());
        Assert.Equal(2, r.GetProperty("lines").GetArrayLength());
    }

    [Fact]
    public async Task Set_DrivesTheInputLevel_AndGetReadsItBack()
    {
        JsonElement set = await RequestAsync("""{"cmd":"set","line":2,"value":1}""");
        Assert.True(set.GetProperty("ok").GetBoolean());
        Assert.True(set.GetProperty("applied").GetBoolean());
        Assert.Equal(LineValue.High, _lines.GetInputLevel(2));

        JsonElement get = await RequestAsync("""{"cmd":"get","line":2}""");
        Assert.True(get.GetProperty("ok").GetBoolean());
        Assert.Equal(2, get.GetProperty("line").GetInt32());
        Assert.Equal(1, get.GetProperty("value").GetInt32());
        Assert.Equal("none", get.GetProperty("direction").GetString());

        await RequestAsync("""{"cmd":"set","line":2,"value":0}""");
        Assert.Equal(LineValue.Low, _lines.GetInputLevel(2));
    }

    [Fact]
    public async Task Set_AcceptsALineName_AndBooleanValues()
    {
        JsonElement set = await RequestAsync("""{"cmd":"set","line":"BTN1","value":true}""");
        Assert.True(set.GetProperty("ok").GetBoolean());
        Assert.Equal(LineValue.High, _lines.GetInputLevel(2));
    }

    [Fact]
    public async Task Get_ReportsAGuestOutputAndItsDrivenLevel()
    {
        // What the device does when the guest sends SET_DIRECTION out + SET_VALUE 1.
        _lines.SetDirection(0, GpioDirection.Output, LineValue.Low);
        _lines.Write(0, LineValue.High);

        JsonElement get = await RequestAsync("""{"cmd":"get","line":"LED0"}""");
        Assert.Equal("out", get.GetProperty("direction").GetString());
        Assert.Equal(1, get.GetProperty("value").GetInt32());
    }

    [Fact]
    public async Task Set_OnAGuestOutput_IsRecordedButNotApplied()
    {
        _lines.SetDirection(0, GpioDirection.Output, LineValue.Low);
        JsonElement set = await RequestAsync("""{"cmd":"set","line":0,"value":1}""");
        Assert.True(set.GetProperty("ok").GetBoolean());
        Assert.False(set.GetProperty("applied").GetBoolean());
        Assert.Equal(LineValue.Low, _lines.GetLevel(0));
    }

    [Fact]
    public async Task Pulse_WithoutWidth_ProducesTwoEdgesAndEndsInactive()
    {
        await RequestAsync("""{"cmd":"subscribe","host":true}""");
        using var cts = new CancellationTokenSource(Timeout);
        await _handler.HandleAsync("""{"cmd":"pulse","line":1,"value":1}"""u8.ToArray(), _session, cts.Token);
        Assert.Equal(LineValue.Low, _lines.GetInputLevel(1));

        // The edges are published while the pulse happens, so they precede the response.
        JsonElement up = await NextLineAsync();
        JsonElement down = await NextLineAsync();
        JsonElement pulse = await NextLineAsync();
        Assert.Equal(("line", 1, 1, "host"), (up.GetProperty("event").GetString(), up.GetProperty("line").GetInt32(), up.GetProperty("value").GetInt32(), up.GetProperty("source").GetString()));
        Assert.Equal(("line", 1, 0, "host"), (down.GetProperty("event").GetString(), down.GetProperty("line").GetInt32(), down.GetProperty("value").GetInt32(), down.GetProperty("source").GetString()));
        Assert.True(pulse.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Pulse_WithWidth_GoesActiveThenBack_BeforeTheResponse()
    {
        await RequestAsync("""{"cmd":"subscribe","host":true}""");
        JsonElement pulse = await RequestAsync("""{"cmd":"pulse","line":3,"value":0,"width_ms":5}""", skipEvents: true);
        Assert.True(pulse.GetProperty("ok").GetBoolean());

        // Active low: the line is first made inactive (high), pulsed low, and left high.
        Assert.Equal(LineValue.High, _lines.GetInputLevel(3));
    }

    [Fact]
    public async Task Subscribe_AnswersOkFirst_ThenStreamsGuestChanges_WithoutHostChangesByDefault()
    {
        JsonElement ok = await RequestAsync("""{"cmd":"subscribe","id":7}""");
        Assert.True(ok.GetProperty("ok").GetBoolean());
        Assert.Equal(7, ok.GetProperty("id").GetInt32());

        _lines.SetInputLevel(1, LineValue.High); // host stimulus: not reported by default
        _lines.SetDirection(0, GpioDirection.Output, LineValue.High); // guest

        JsonElement ev = await NextLineAsync();
        Assert.Equal("line", ev.GetProperty("event").GetString());
        Assert.Equal(0, ev.GetProperty("device").GetInt32());
        Assert.Equal(0, ev.GetProperty("line").GetInt32());
        Assert.Equal(1, ev.GetProperty("value").GetInt32());
        Assert.Equal("out", ev.GetProperty("direction").GetString());
        Assert.Equal("guest", ev.GetProperty("source").GetString());
        Assert.True(DateTimeOffset.TryParse(ev.GetProperty("time").GetString(), out _));
        Assert.False(_session.Outgoing.TryRead(out _));
    }

    [Fact]
    public async Task Subscribe_ReportsIrqDeliveriesAndConnections()
    {
        await RequestAsync("""{"cmd":"subscribe"}""");
        _device2.SetConnected(true);
        _device.PublishIrq(3, valid: true);
        _device.PublishIrq(9, valid: false);
        _device2.SetConnected(false);

        JsonElement connected = await NextLineAsync();
        Assert.Equal("connected", connected.GetProperty("event").GetString());
        Assert.Equal(1, connected.GetProperty("device").GetInt32());
        JsonElement irq = await NextLineAsync();
        Assert.Equal(("irq", 3, "valid"), (irq.GetProperty("event").GetString(), irq.GetProperty("line").GetInt32(), irq.GetProperty("status").GetString()));
        JsonElement invalid = await NextLineAsync();
        Assert.Equal("invalid", invalid.GetProperty("status").GetString());
        JsonElement disconnected = await NextLineAsync();
        Assert.Equal("disconnected", disconnected.GetProperty("event").GetString());
    }

    [Fact]
    public async Task Unsubscribe_StopsEvents()
    {
        await RequestAsync("""{"cmd":"subscribe"}""");
        await RequestAsync("""{"cmd":"unsubscribe"}""");
        _lines.SetDirection(0, GpioDirection.Output, LineValue.High);
        Assert.False(_session.Outgoing.TryRead(out _));
    }

    [Fact]
    public async Task Devices_ListsSocketsDialectsAndConnectionState()
    {
        _device.SetConnected(true);
        JsonElement r = await RequestAsync("""{"cmd":"devices"}""");
        JsonElement[] devices = [.. r.GetProperty("devices").EnumerateArray()];
        Assert.Equal(2, devices.Length);
        Assert.Equal("/run/a.sock", devices[0].GetProperty("socket").GetString());
        Assert.True(devices[0].GetProperty("connected").GetBoolean());
        Assert.Equal("draft", devices[1].GetProperty("dialect").GetString());
        Assert.False(devices[1].GetProperty("connected").GetBoolean());
    }

    [Theory]
    [InlineData("{", "bad JSON")]
    [InlineData("[1,2]", "JSON object")]
    [InlineData("42", "JSON object")]
    [InlineData("""{"line":1}""", "\"cmd\"")]
    [InlineData("""{"cmd":5}""", "\"cmd\"")]
    [InlineData("""{"cmd":"explode"}""", "unknown command")]
    [InlineData("""{"cmd":"get"}""", "\"line\"")]
    [InlineData("""{"cmd":"get","line":4}""", "out of range")]
    [InlineData("""{"cmd":"get","line":-1}""", "out of range")]
    [InlineData("""{"cmd":"get","line":1.5}""", "integer")]
    [InlineData("""{"cmd":"get","line":"NOPE"}""", "no line named")]
    [InlineData("""{"cmd":"get","line":""}""", "no line named")]
    [InlineData("""{"cmd":"set","line":1}""", "\"value\"")]
    [InlineData("""{"cmd":"set","line":1,"value":2}""", "0 or 1")]
    [InlineData("""{"cmd":"set","line":1,"value":"1"}""", "0 or 1")]
    [InlineData("""{"cmd":"list","device":2}""", "device 2 out of range")]
    [InlineData("""{"cmd":"list","device":"x"}""", "integer")]
    [InlineData("""{"cmd":"pulse","line":1,"width_ms":-1}""", "width_ms")]
    [InlineData("""{"cmd":"pulse","line":1,"width_ms":60001}""", "width_ms")]
    [InlineData("""{"cmd":"subscribe","host":1}""", "\"host\"")]
    public async Task BadRequest_GetsAnErrorReply_AndTheSessionStaysUsable(string request, string expectedFragment)
    {
        JsonElement error = await RequestAsync(request);
        Assert.False(error.GetProperty("ok").GetBoolean());
        Assert.Contains(expectedFragment, error.GetProperty("error").GetString(), StringComparison.Ordinal);

        JsonElement next = await RequestAsync("""{"cmd":"get","line":0}""");
        Assert.True(next.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Id_IsEchoedOnSuccessAndOnError()
    {
        JsonElement ok = await RequestAsync("""{"cmd":"get","line":0,"id":"abc"}""");
        Assert.Equal("abc", ok.GetProperty("id").GetString());
        JsonElement err = await RequestAsync("""{"cmd":"get","line":99,"id":{"n":1}}""");
        Assert.Equal(1, err.GetProperty("id").GetProperty("n").GetInt32());
    }

    [Fact]
    public void SlowSubscriber_DropsEventsInsteadOfGrowingWithoutBound()
    {
        var session = new ControlSession(2);
        session.SetSubscription(subscribed: true, includeHostEvents: true);
        int dropped = 0;
        session.EventDropped += (_, _) => dropped++;
        byte[] line = "{\"event\":\"x\"}\n"u8.ToArray();
        for (int i = 0; i < ControlSession.MaxPendingEvents + 10; i++)
        {
            session.TrySendEvent(line);
        }

        Assert.Equal(10, session.DroppedEvents);
        Assert.Equal(1, dropped);

        // Responses are never dropped.
        session.SendResponse("{\"ok\":true}\n"u8.ToArray());
        int count = 0;
        while (session.Outgoing.TryRead(out ControlOutgoingLine l))
        {
            session.OnDequeued(l);
            count++;
        }

        Assert.Equal(ControlSession.MaxPendingEvents + 1, count);
        Assert.True(session.TrySendEvent(line));
    }

    private async Task<JsonElement> RequestAsync(string request, bool skipEvents = false)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await _handler.HandleAsync(Encoding.UTF8.GetBytes(request), _session, cts.Token);
        while (true)
        {
            JsonElement line = await NextLineAsync();
            if (skipEvents && line.TryGetProperty("event", out _))
            {
                continue;
            }

            return line;
        }
    }

    private async Task<JsonElement> NextLineAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        ControlOutgoingLine line;
        try
        {
            line = await _session.Outgoing.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("No control line within " + Timeout);
        }

        _session.OnDequeued(line);
        Assert.Equal((byte)'\n', line.Bytes[^1]);
        Assert.Equal(1, line.Bytes.Count(b => b == (byte)'\n'));
        using JsonDocument doc = JsonDocument.Parse(line.Bytes);
        return doc.RootElement.Clone();
    }
}
