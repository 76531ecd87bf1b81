// SPDX-License-Identifier: MIT
using System.Net.Sockets;
using System.Text.Json;

namespace VirtioGpio.Transport.VhostUser.Tests.Daemon;

/// <summary>The real daemon as a separate process: exit codes, signals, socket cleanup, control socket, tracing.</summary>
[Trait("Category", "Daemon")]
public sealed class DaemonProcessTests : IDisposable
{
    private const int SIGINT = 2;
    private const int SIGTERM = 15;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task PrintCapabilities_PrintsJsonWithTypeGpio_AndExitsZero()
    {
        (int code, string stdout, string stderr) = await DaemonProcess.RunAsync("--print-capabilities");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        Assert.Equal("gpio", doc.RootElement.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--lines", "0")]
    [InlineData("--lines", "65536")]
    [InlineData("--lines", "257", "--dialect", "draft")]
    [InlineData("--names", "a,b,a")]
    [InlineData("--names", "a,b", "--lines", "2")]
    [InlineData("--lines", "eight")]
    [InlineData("--queue-size", "100")]
    public async Task BadArguments_ExitTwo_WithOneLineReasonAndNoStackTrace(params string[] extra)
    {
        string socket = _dir.File("g.sock");
        (int code, string stdout, string stderr) = await DaemonProcess.RunAsync(["--socket", socket, .. extra]);
        AssertUsageError(code, stderr);
        Assert.Equal("", stdout);
        Assert.False(File.Exists(socket));
    }

    [Fact]
    public async Task MissingSocket_ExitsTwo()
    {
        (int code, _, string stderr) = await DaemonProcess.RunAsync("--lines", "4");
        AssertUsageError(code, stderr);
    }

    [Fact]
    public async Task SocketPathServedByALiveProcess_ExitsTwo_AndLeavesItAlone()
    {
        string socket = _dir.File("live.sock");
        using Socket live = DaemonProcess.Listen(socket);
        (int code, _, string stderr) = await DaemonProcess.RunAsync("--socket", socket);
        AssertUsageError(code, stderr);
        Assert.Contains("live process", stderr, StringComparison.Ordinal);
        Assert.True(DaemonProcess.IsSocketFile(socket));
    }

    [Fact]
    public async Task SocketPathServedByAnotherDaemon_ExitsTwo()
    {
        string socket = _dir.File("d.sock");
        using DaemonProcess first = DaemonProcess.Start("--socket", socket);
        await first.WaitForSocketsAsync(socket);
        (int code, _, string stderr) = await DaemonProcess.RunAsync("--socket", socket);
        AssertUsageError(code, stderr);
        Assert.False(first.HasExited);
        Assert.True(DaemonProcess.IsSocketFile(socket));
    }

    [Fact]
    public async Task ControlPathServedByALiveProcess_ExitsTwo_AndRemovesNothing()
    {
        string socket = _dir.File("g.sock");
        string control = _dir.File("c.ctl");
        using Socket live = DaemonProcess.Listen(control);
        (int code, _, string stderr) = await DaemonProcess.RunAsync("--socket", socket, "--control", control);
        AssertUsageError(code, stderr);
        Assert.Contains("--control", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(socket));
        Assert.True(DaemonProcess.IsSocketFile(control));
    }

    [Fact]
    public async Task StaleSocketFile_IsReplaced()
    {
        string socket = _dir.File("stale.sock");
        using (DaemonProcess.Listen(socket))
        {
            // Closed without unlinking: a stale socket file, as after a crash.
        }

        using DaemonProcess daemon = DaemonProcess.Start("--socket", socket);
        await daemon.WaitForSocketsAsync(socket);
        daemon.Signal(SIGTERM);
        Assert.Equal(0, await daemon.WaitForExitAsync(DaemonProcess.DefaultTimeout));
    }

    [Theory]
    [InlineData("socket-dir")]
    [InlineData("socket-is-file")]
    [InlineData("control-dir")]
    [InlineData("trace-dir")]
    [InlineData("trace-is-dir")]
    public async Task UnwritablePath_ExitsTwo_AndLeavesNoSocketBehind(string which)
    {
        string socket = _dir.File("g.sock");
        string control = _dir.File("c.ctl");
        string missing = _dir.File("missing");
        string regular = _dir.File("regular");
        File.WriteAllText(regular, "keep me");
        string[] args = which switch
        {
            "socket-dir" => ["--socket", Path.Combine(missing, "g.sock")],
            "socket-is-file" => ["--socket", regular],
            "control-dir" => ["--socket", socket, "--control", Path.Combine(missing, "c.ctl")],
            "trace-dir" => ["--socket", socket, "--control", control, "--trace", Path.Combine(missing, "t.vcd")],
            "trace-is-dir" => ["--socket", socket, "--control", control, "--trace", _dir.Path],
            _ => throw new ArgumentOutOfRangeException(nameof(which)),
        };

        (int code, _, string stderr) = await DaemonProcess.RunAsync(args);
        AssertUsageError(code, stderr);
        Assert.False(File.Exists(socket));
        Assert.False(File.Exists(control));
        Assert.Equal("keep me", File.ReadAllText(regular));
    }

    [Theory]
    [InlineData(SIGTERM)]
    [InlineData(SIGINT)]
    public async Task Signal_ExitsZero_RemovesEverySocket_AndFlushesTheTraces(int signal)
    {
        string a = _dir.File("a.sock");
        string b = _dir.File("b.sock");
        string control = _dir.File("c.ctl");
        string trace = _dir.File("t.vcd");
        using DaemonProcess daemon = DaemonProcess.Start("--socket", a, "--socket", b, "--names", "LED0,BTN1", "--control", control, "--trace", trace);
        await daemon.WaitForSocketsAsync(a, b);
        Assert.True(DaemonProcess.IsSocketFile(control));
        // The socket file exists once bind() returns; the log line follows it (and the pipe reader), so wait for it.
        await daemon.WaitForStderrAsync("listening on " + a);

        using (var client = new ControlClient(control))
        {
            Assert.True((await client.RequestAsync("""{"cmd":"set","line":"BTN1","value":1}""")).GetProperty("ok").GetBoolean());
        }

        daemon.Signal(signal);
        Assert.Equal(0, await daemon.WaitForExitAsync(DaemonProcess.DefaultTimeout));
        Assert.False(File.Exists(a));
        Assert.False(File.Exists(b));
        Assert.False(File.Exists(control));

        string vcd = File.ReadAllText(trace);
        Assert.Contains("$enddefinitions", vcd, StringComparison.Ordinal);
        Assert.Contains("BTN1", vcd, StringComparison.Ordinal);
        string[] body = vcd[vcd.IndexOf("$enddefinitions", StringComparison.Ordinal)..].Split('\n');
        Assert.Contains(body, l => l.StartsWith('#') && l != "#0");
        Assert.Contains("$enddefinitions", File.ReadAllText(_dir.File("t.1.vcd")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlSocket_ListGetSetPulseSubscribe_AndErrors()
    {
        string socket = _dir.File("g.sock");
        string control = _dir.File("c.ctl");
        using DaemonProcess daemon = DaemonProcess.Start("--socket", socket, "--names", "LED0,,BTN1", "--control", control);
        await daemon.WaitForSocketsAsync(socket);

        using var client = new ControlClient(control);
        using var watcher = new ControlClient(control);

        JsonElement list = await client.RequestAsync("""{"cmd":"list"}""");
        Assert.True(list.GetProperty("ok").GetBoolean());
        Assert.Equal(3, list.GetProperty("lines").GetArrayLength());
        Assert.Equal("BTN1", list.GetProperty("lines")[2].GetProperty("name").GetString());

        Assert.True((await watcher.RequestAsync("""{"cmd":"subscribe","host":true}""")).GetProperty("ok").GetBoolean());

        JsonElement set = await client.RequestAsync("""{"cmd":"set","line":2,"value":1}""");
        Assert.True(set.GetProperty("ok").GetBoolean());
        JsonElement get = await client.RequestAsync("""{"cmd":"get","line":2}""");
        Assert.Equal(1, get.GetProperty("value").GetInt32());
        Assert.Equal("none", get.GetProperty("direction").GetString());

        JsonElement ev = await watcher.ReadAsync();
        Assert.Equal(("line", 2, 1, "host"), (ev.GetProperty("event").GetString(), ev.GetProperty("line").GetInt32(), ev.GetProperty("value").GetInt32(), ev.GetProperty("source").GetString()));

        JsonElement pulse = await client.RequestAsync("""{"cmd":"pulse","line":0,"value":1,"width_ms":10}""");
        Assert.True(pulse.GetProperty("ok").GetBoolean());
        JsonElement up = await watcher.ReadAsync();
        JsonElement down = await watcher.ReadAsync();
        Assert.Equal((0, 1), (up.GetProperty("line").GetInt32(), up.GetProperty("value").GetInt32()));
        Assert.Equal((0, 0), (down.GetProperty("line").GetInt32(), down.GetProperty("value").GetInt32()));

        // Errors keep the connection usable.
        JsonElement bad = await client.RequestAsync("{not json");
        Assert.False(bad.GetProperty("ok").GetBoolean());
        Assert.Contains("bad JSON", bad.GetProperty("error").GetString(), StringComparison.Ordinal);
        JsonElement unknown = await client.RequestAsync("""{"cmd":"frobnicate"}""");
        Assert.False(unknown.GetProperty("ok").GetBoolean());
        JsonElement badLine = await client.RequestAsync("""{"cmd":"get","line":3}""");
        Assert.False(badLine.GetProperty("ok").GetBoolean());
        Assert.Contains("out of range", badLine.GetProperty("error").GetString(), StringComparison.Ordinal);

        // Several requests in one write, CRLF endings and blank lines (socat, printf).
        await client.SendRawAsync("{\"cmd\":\"get\",\"line\":0,\"id\":1}\r\n\n{\"cmd\":\"get\",\"line\":1,\"id\":2}\n");
        Assert.Equal(1, (await client.ReadAsync()).GetProperty("id").GetInt32());
        Assert.Equal(2, (await client.ReadAsync()).GetProperty("id").GetInt32());

        JsonElement devices = await client.RequestAsync("""{"cmd":"devices"}""");
        Assert.Equal(socket, devices.GetProperty("devices")[0].GetProperty("socket").GetString());
        Assert.False(devices.GetProperty("devices")[0].GetProperty("connected").GetBoolean());

        daemon.Signal(SIGTERM);
        Assert.Equal(0, await daemon.WaitForExitAsync(DaemonProcess.DefaultTimeout));

        // The daemon closed the subscriber's connection on exit.
        Assert.Null(await watcher.ReadLineAsync());
    }

    [Fact]
    public async Task ControlSocket_ClientThatSendsOneRequestAndHalfCloses_GetsItsAnswer()
    {
        // What `echo '{"cmd":"list"}' | socat - UNIX-CONNECT:PATH` does.
        string socket = _dir.File("g.sock");
        string control = _dir.File("c.ctl");
        using DaemonProcess daemon = DaemonProcess.Start("--socket", socket, "--lines", "2", "--control", control);
        await daemon.WaitForSocketsAsync(socket);

        using var client = new ControlClient(control);
        await client.SendRawAsync("{\"cmd\":\"list\"}");
        client.ShutdownSend();
        JsonElement list = await client.ReadAsync();
        Assert.Equal(2, list.GetProperty("lines").GetArrayLength());
        Assert.Null(await client.ReadLineAsync());
    }

    [Fact]
    public async Task ControlSocket_ManyPipelinedRequests_AreAllAnsweredInOrder()
    {
        string socket = _dir.File("g.sock");
        string control = _dir.File("c.ctl");
        using DaemonProcess daemon = DaemonProcess.Start("--socket", socket, "--lines", "2", "--control", control);
        await daemon.WaitForSocketsAsync(socket);

        // More than ControlSession.MaxPendingResponses requests before reading anything: the daemon pauses reading, never drops.
        const int Count = 3000;
        using var client = new ControlClient(control);
        var batch = new System.Text.StringBuilder();
        for (int i = 0; i < Count; i++)
        {
            batch.Append("{\"cmd\":\"get\",\"line\":").Append(i % 2).Append(",\"id\":").Append(i).Append("}\n");
        }

        Task send = client.SendRawAsync(batch.ToString());
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(i, (await client.ReadAsync()).GetProperty("id").GetInt32());
        }

        await send.WaitAsync(DaemonProcess.DefaultTimeout);
    }

    [Fact]
    public async Task LineState_SurvivesAFrontEndReconnect()
    {
        string socket = _dir.File("g.sock");
        string control = _dir.File("c.ctl");
        using DaemonProcess daemon = DaemonProcess.Start("--socket", socket, "--lines", "4", "--control", control);
        await daemon.WaitForSocketsAsync(socket);
        using var client = new ControlClient(control);
        await client.RequestAsync("""{"cmd":"set","line":3,"value":1}""");
        Assert.True((await client.RequestAsync("""{"cmd":"subscribe"}""")).GetProperty("ok").GetBoolean());

        for (int i = 0; i < 2; i++)
        {
            using (var frontend = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                await frontend.ConnectAsync(new UnixDomainSocketEndPoint(socket));
                JsonElement connected = await client.ReadUntilAsync(e => e.TryGetProperty("event", out _));
                Assert.Equal("connected", connected.GetProperty("event").GetString());
            }

            JsonElement disconnected = await client.ReadUntilAsync(e => e.TryGetProperty("event", out _));
            Assert.Equal("disconnected", disconnected.GetProperty("event").GetString());
        }

        Assert.Equal(1, (await client.RequestAsync("""{"cmd":"get","line":3}""")).GetProperty("value").GetInt32());
    }

    private static void AssertUsageError(int code, string stderr)
    {
        Assert.True(code == 2, $"exit code {code}, stderr:\n{stderr}");
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "expected one stderr line, got:\n" + stderr);
        Assert.StartsWith("virtio-gpio: error: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }
}
