// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging;
using VirtioGpio.Daemon.Cli;

namespace VirtioGpio.Transport.VhostUser.Tests.Daemon;

/// <summary>Command-line parsing and validation in-process (the same code the process tests run).</summary>
public sealed class DaemonCommandLineTests
{
    [Fact]
    public async Task Defaults_AreEightUnnamedLines_Standard_Id41_Queue1024_Information()
    {
        (int code, DaemonOptions? options, string error) = await RunAsync("--socket", "/tmp/a.sock");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.NotNull(options);
        Assert.Equal(["/tmp/a.sock"], options.SocketPaths);
        Assert.Equal(8, options.LineCount);
        Assert.False(options.LineNames.HasAnyName);
        Assert.Equal(DaemonDialect.Standard, options.Dialect);
        Assert.Equal(41u, options.DeviceId);
        Assert.Equal(1024, options.QueueSize);
        Assert.False(options.NoIrq);
        Assert.Null(options.ControlPath);
        Assert.Null(options.TracePath);
        Assert.Equal(LogLevel.Information, options.LogLevel);
    }

    [Fact]
    public async Task EveryOption_IsParsed()
    {
        (int code, DaemonOptions? o, string error) = await RunAsync(
            "--socket", "/tmp/a.sock", "--socket", "/tmp/b.sock", "--names", "LED0,,BTN1", "--dialect", "draft",
            "--device-id", "41", "--queue-size", "256", "--no-irq", "--control", "/tmp/c.ctl", "--trace", "/tmp/t.vcd", "--log-level", "debug");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.NotNull(o);
        Assert.Equal(["/tmp/a.sock", "/tmp/b.sock"], o.SocketPaths);
        Assert.Equal(["LED0", "", "BTN1"], o.LineNames);
        Assert.Equal(DaemonDialect.Draft, o.Dialect);
        Assert.Equal(41u, o.DeviceId);
        Assert.Equal(256, o.QueueSize);
        Assert.True(o.NoIrq);
        Assert.Equal("/tmp/c.ctl", o.ControlPath);
        Assert.Equal("/tmp/t.vcd", o.TracePathFor(0));
        Assert.Equal("/tmp/t.1.vcd", o.TracePathFor(1));
        Assert.Equal(LogLevel.Debug, o.LogLevel);
    }

    [Fact]
    public async Task Draft_DefaultsToDeviceId30()
    {
        (_, DaemonOptions? o, _) = await RunAsync("--socket", "/tmp/a.sock", "--dialect", "draft");
        Assert.Equal(30u, o!.DeviceId);
    }

    [Fact]
    public async Task SocketPathAlias_FromTheVhostUserConventions_IsAccepted()
    {
        (int code, DaemonOptions? o, _) = await RunAsync("--socket-path=/tmp/a.sock");
        Assert.Equal(0, code);
        Assert.Equal(["/tmp/a.sock"], o!.SocketPaths);
    }

    [Fact]
    public async Task RelativeSocketPath_IsMadeAbsolute()
    {
        (_, DaemonOptions? o, _) = await RunAsync("--socket", "x.sock");
        Assert.Equal(Path.GetFullPath("x.sock"), o!.SocketPaths[0]);
    }

    [Theory]
    [InlineData("unrecognized", "--socket", "/tmp/a.sock", "--bogus")]
    [InlineData("required", "--lines", "4")]
    [InlineData("out of range", "--socket", "/tmp/a.sock", "--lines", "0")]
    [InlineData("out of range", "--socket", "/tmp/a.sock", "--lines", "65536")]
    [InlineData("out of range", "--socket", "/tmp/a.sock", "--lines", "257", "--dialect", "draft")]
    [InlineData("mutually exclusive", "--socket", "/tmp/a.sock", "--lines", "2", "--names", "a,b")]
    [InlineData("duplicate", "--socket", "/tmp/a.sock", "--names", "a,b,a")]
    [InlineData("7-bit", "--socket", "/tmp/a.sock", "--names", "a,\u00e9")]
    [InlineData("--lines", "--socket", "/tmp/a.sock", "--lines", "many")]
    [InlineData("standard, draft", "--socket", "/tmp/a.sock", "--dialect", "v2")]
    [InlineData("power of two", "--socket", "/tmp/a.sock", "--queue-size", "1000")]
    [InlineData("power of two", "--socket", "/tmp/a.sock", "--queue-size", "65536")]
    [InlineData("power of two", "--socket", "/tmp/a.sock", "--queue-size", "1")]
    [InlineData("--device-id", "--socket", "/tmp/a.sock", "--device-id", "0")]
    [InlineData("--dialect draft", "--socket", "/tmp/a.sock", "--device-id", "30")]
    [InlineData("--log-level", "--socket", "/tmp/a.sock", "--log-level", "loud")]
    [InlineData("twice", "--socket", "/tmp/a.sock", "--socket", "/tmp/a.sock")]
    [InlineData("also a --socket", "--socket", "/tmp/a.sock", "--control", "/tmp/a.sock")]
    [InlineData("256", "--socket", "/tmp/a.sock", "--dialect", "draft", "--names",
        "line_name_number_00,line_name_number_01,line_name_number_02,line_name_number_03,line_name_number_04,line_name_number_05,line_name_number_06,line_name_number_07,line_name_number_08,line_name_number_09")]
    public async Task BadArguments_ExitTwoWithOneLineReason(string expectedFragment, params string[] args)
    {
        (int code, DaemonOptions? options, string error) = await RunAsync(args);
        Assert.Equal(2, code);
        Assert.Null(options);
        string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("virtio-gpio: error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expectedFragment, lines[0], StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TooLongSocketPath_IsRejected()
    {
        string path = "/tmp/" + new string('s', 120) + ".sock";
        (int code, _, string error) = await RunAsync("--socket", path);
        Assert.Equal(2, code);
        Assert.Contains("107", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DraftNames_ThatFit256BytesOfConfig_AreAccepted()
    {
        // 0x40 + 8 × len("LINE_0N\0") = 64 + 64 = 128 bytes.
        (int code, DaemonOptions? o, _) = await RunAsync("--socket", "/tmp/a.sock", "--dialect", "draft", "--names", "LINE_01,LINE_02,LINE_03,LINE_04,LINE_05,LINE_06,LINE_07,LINE_08");
        Assert.Equal(0, code);
        Assert.Equal(8, o!.LineCount);
    }

    [Fact]
    public async Task PrintCapabilities_PrintsTheBackendTypeAndNeedsNoSocket()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        bool ran = false;
        var cli = new DaemonCommandLine((_, _) => { ran = true; return Task.FromResult(0); }) { Output = output, Error = error };
        int code = await cli.InvokeAsync(["--print-capabilities"]);
        Assert.Equal(0, code);
        Assert.False(ran);
        Assert.Equal(DaemonCommandLine.CapabilitiesJson, output.ToString().Trim());
        Assert.Equal("", error.ToString());
    }

    private static async Task<(int Code, DaemonOptions? Options, string Error)> RunAsync(params string[] args)
    {
        DaemonOptions? captured = null;
        var error = new StringWriter();
        var cli = new DaemonCommandLine((o, _) => { captured = o; return Task.FromResult(0); }) { Output = new StringWriter(), Error = error };
        int code = await cli.InvokeAsync(args);
        return (code, captured, error.ToString());
    }
}
