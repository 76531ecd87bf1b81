// SPDX-License-Identifier: MIT
using VirtioGpio.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace VirtioGpio.IntegrationTests;

/// <summary>
/// A guest reboot (PCI: a real <c>reboot -f</c>; QEMU runs with -no-reboot and exits. MMIO: power-off, since microvm
/// cannot reset) followed by a new QEMU against the same daemon: the daemon sees the disconnect and the reconnect,
/// the level the host set survives, and the guest's outputs and interrupts work again.
/// </summary>
[Collection(RealGuestCollection.Name)]
[Trait("Category", "RequiresQemu")]
public sealed class GuestReconnectTests
{
    private const string Names = "led0,led1,in2,in3,rise4,in5,l6,l7";
    private readonly GuestFixture _fixture;
    private readonly ITestOutputHelper _output;

    public GuestReconnectTests(GuestFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    [RequiresGuestTheory]
    [InlineData(GuestTransport.Pci)]
    [InlineData(GuestTransport.Mmio)]
    public async Task Guest_reboot_reconnects_to_the_same_daemon_and_keeps_the_host_line_state(GuestTransport transport)
    {
        _output.WriteLine(_fixture.Describe());
        await using DaemonProcess daemon = await DaemonProcess.StartAsync(Names, GuestEnvironment.StepTimeout);
        await using ControlClient control = await ControlClient.ConnectAsync(daemon.ControlPath);
        await control.SubscribeAsync();
        var runs = new List<GuestRunResult>();
        await GuestFailure.WithContextAsync(daemon, control, () => runs, async () =>
        {
            await control.SetAsync(2, 1);
            await control.SetAsync(5, 0);

            var phase1 = new Dictionary<string, string> { ["PHASE"] = "1", ["REBOOT"] = transport == GuestTransport.Pci ? "1" : "0" };
            GuestRunResult r1 = await QemuGuest.BootAsync(transport, daemon.SocketPath, "reconnect.sh", phase1, async step =>
            {
                Assert.Equal("set5", step);
                await control.SetAsync(5, 1);
            }, _output.WriteLine);
            runs.Add(r1);
            Assert.Equal("yes", r1.Value("finished"));
            Assert.Equal("1", r1.Value("get2"));
            Assert.Equal("0", r1.Value("set0.rc"));
            Assert.Contains(control.Events, e => ControlClient.IsGuestLine(e, 0, 1));
            if (transport == GuestTransport.Pci)
            {
                Assert.Contains("VGPIO-REBOOT", r1.SerialLog, StringComparison.Ordinal);
            }

            (_, int disconnected) = await control.WaitForEventAsync(e => ControlClient.IsEvent(e, "disconnected"), "disconnected after the first boot");
            int mark = control.EventCount;

            int from = 0;
            GuestRunResult r2 = await QemuGuest.BootAsync(transport, daemon.SocketPath, "reconnect.sh", new Dictionary<string, string> { ["PHASE"] = "2" }, async step =>
            {
                Assert.Equal("arm-rise4", step);
                from = control.EventCount;
                await control.WaitForLineFieldAsync(4, "irq", "edge-rising");
                await control.PulseAsync(4, 1, 20);
                await control.WaitForEventAsync(e => ControlClient.IsIrq(e, 4, "valid"), "irq valid on line 4 after the reconnect", from);
            }, _output.WriteLine);
            runs.Add(r2);
            _output.WriteLine($"{transport}: boots took {r1.Elapsed.TotalSeconds:0.0} s and {r2.Elapsed.TotalSeconds:0.0} s");

            // The daemon saw the second front-end connect after the first disconnected.
            await control.WaitForEventAsync(e => ControlClient.IsEvent(e, "connected"), "connected for the second boot", disconnected + 1);
            Assert.Equal("yes", r2.Value("finished"));
            Assert.Equal(0, r2.EndCode);
            Assert.Equal("1", r2.Value("get5"));
            Assert.Equal("1", r2.Value("get2"));
            Assert.Equal("0", r2.Value("set1.rc"));
            Assert.Contains(control.Events.Skip(mark), e => ControlClient.IsGuestLine(e, 1, 1));
            Assert.Equal("0", r2.Value("rise4.rc"));
            Assert.Contains("RISING EDGE offset: 4", r2.Value("rise4"), StringComparison.Ordinal);

            JsonNodeAssert(await control.GetAsync(5), "value", "1");
            Assert.True(daemon.IsRunning, "the daemon exited during the reconnect");
        });
    }

    private static void JsonNodeAssert(System.Text.Json.Nodes.JsonNode node, string field, string expected) =>
        Assert.Equal(expected, node[field]?.ToString());
}
