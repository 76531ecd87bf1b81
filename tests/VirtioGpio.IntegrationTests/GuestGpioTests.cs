// SPDX-License-Identifier: MIT
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using VirtioGpio.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace VirtioGpio.IntegrationTests;

/// <summary>
/// The real daemon against QEMU 10 and Debian's Linux 6.1 with the upstream gpio-virtio driver, on both transports.
/// One boot per transport runs every check (TCG boots cost seconds); each guest action is verified on the host
/// side too, through the daemon's control socket (line states and events).
/// </summary>
[Collection(RealGuestCollection.Name)]
[Trait("Category", "RequiresQemu")]
public sealed partial class GuestGpioTests
{
    private const string Names = "led0,led1,in2,in3,rise4,fall5,both6,level7";
    private readonly GuestFixture _fixture;
    private readonly ITestOutputHelper _output;

    public GuestGpioTests(GuestFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    [GeneratedRegex(@"line\s+(\d+):\s+""([^""]*)""")]
    private static partial Regex InfoLine();

    [RequiresGuestTheory]
    [InlineData(GuestTransport.Pci)]
    [InlineData(GuestTransport.Mmio)]
    [Trait("Spec", "D12")]
    public async Task Linux_guest_reads_drives_and_receives_edge_and_level_interrupts(GuestTransport transport)
    {
        _output.WriteLine(_fixture.Describe());
        await using DaemonProcess daemon = await DaemonProcess.StartAsync(Names, GuestEnvironment.StepTimeout);
        await using ControlClient control = await ControlClient.ConnectAsync(daemon.ControlPath);
        await control.SubscribeAsync();
        var runs = new List<GuestRunResult>();
        await GuestFailure.WithContextAsync(daemon, control, () => runs, async () =>
        {
            // Host presets, before the guest boots.
            await control.SetAsync(2, 1);
            await control.SetAsync(3, 0);
            await control.SetAsync(5, 1);
            await control.SetAsync(7, 0);

            var marks = new Dictionary<string, int>(StringComparer.Ordinal);
            GuestRunResult r = await QemuGuest.BootAsync(transport, daemon.SocketPath, "gpio-main.sh", null, async step =>
            {
                marks[step] = control.EventCount;
                switch (step)
                {
                    case "set3":
                        await control.SetAsync(3, 1);
                        break;
                    case "held0":
                        // gpioset --mode=signal holds line 0 as an output at 1.
                        await control.WaitForEventAsync(e => ControlClient.IsGuestLine(e, 0, 1), "guest drives line 0 to 1");
                        JsonNode held = await control.GetAsync(0);
                        Assert.Equal("out", held["direction"]?.ToString());
                        Assert.Equal(1, held["value"]?.GetValue<int>());
                        break;
                    case "released0":
                        // gpioset exited: SET_DIRECTION(NONE) released the line.
                        await control.WaitForLineFieldAsync(0, "direction", "none");
                        break;
                    case "arm-rise4":
                        await control.WaitForLineFieldAsync(4, "irq", "edge-rising");
                        await control.PulseAsync(4, 1, 20);
                        break;
                    case "arm-fall5":
                        await control.WaitForLineFieldAsync(5, "irq", "edge-falling");
                        await control.PulseAsync(5, 0, 20);
                        break;
                    case "after-rise4":
                    case "after-fall5":
                        {
                            // gpiomon got its event and exited while the re-queued eventq pair was held by the device:
                            // free_irq → SET_IRQ_TYPE(NONE) → the held pair comes back INVALID (STANDARD.md D12).
                            int line = step == "after-rise4" ? 4 : 5;
                            int from = marks[step == "after-rise4" ? "arm-rise4" : "arm-fall5"];
                            (_, int valid) = await control.WaitForEventAsync(e => ControlClient.IsIrq(e, line, "valid"), $"irq valid on line {line}", from);
                            await control.WaitForEventAsync(e => ControlClient.IsIrq(e, line, "invalid"), $"irq invalid on line {line} (disabled while held)", valid + 1);
                            await control.WaitForLineFieldAsync(line, "irq", "none");
                            break;
                        }

                    case "arm-both6-rise":
                        await control.WaitForLineFieldAsync(6, "irq", "edge-both");
                        await control.SetAsync(6, 1);
                        break;
                    case "arm-both6-fall":
                        await control.WaitForLineFieldAsync(6, "irq", "edge-both");
                        await control.SetAsync(6, 0);
                        break;
                    case "arm-both6-pulse":
                        await control.WaitForLineFieldAsync(6, "irq", "edge-both");
                        await control.PulseAsync(6, 1, 20);
                        break;
                    case "after-both6":
                        await control.WaitForLineFieldAsync(6, "irq", "none");
                        break;
                    case "arm-level-high":
                        {
                            await control.WaitForLineFieldAsync(7, "irq", "level-high");
                            Assert.DoesNotContain(control.Events.Skip(marks[step]), e => ControlClient.IsIrq(e, 7, "valid"));
                            await control.SetAsync(7, 1);
                            int from = marks[step];
                            for (int n = 0; n < 3; n++)
                            {
                                (_, int at) = await control.WaitForEventAsync(e => ControlClient.IsIrq(e, 7, "valid"), $"level-high interrupt #{n + 1} on line 7", from);
                                from = at + 1;
                            }

                            // vgpio_level disables the interrupt after 3: SET_IRQ_TYPE(NONE).
                            await control.WaitForLineFieldAsync(7, "irq", "none");
                            break;
                        }

                    case "pre-level-low":
                        await control.SetAsync(7, 0);
                        marks[step] = control.EventCount;
                        break;
                    case "post-level-low":
                        await control.WaitForLineFieldAsync(7, "irq", "none");
                        break;
                    default:
                        throw new InvalidOperationException("unknown guest step " + step);
                }
            }, _output.WriteLine);
            runs.Add(r);
            _output.WriteLine($"{transport}: boot + checks took {r.Elapsed.TotalSeconds:0.0} s");

            Assert.Equal("yes", r.Value("finished"));
            Assert.Equal(0, r.EndCode);
            Assert.Contains("(8 lines)", r.Value("detect"), StringComparison.Ordinal);

            // gpioinfo: 8 lines with the daemon's names (GET_LINE_NAMES).
            var names = r.Info.Select(l => InfoLine().Match(l)).Where(m => m.Success)
                .ToDictionary(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m => m.Groups[2].Value);
            Assert.Equal(Names.Split(','), Enumerable.Range(0, 8).Select(i => names.GetValueOrDefault(i, "?")));
            Assert.Equal("gpiochip0 6", r.Value("find"));

            // Inputs the host drives.
            Assert.Equal("1", r.Value("get2"));
            Assert.Equal("0", r.Value("get3a"));
            Assert.Equal("1", r.Value("get3b"));

            // Outputs the guest drives, seen by the host.
            Assert.Equal("0", r.Value("set1.rc"));
            Assert.Contains(control.Events, e => ControlClient.IsGuestLine(e, 1, 1));
            Assert.Contains(control.Events, e => ControlClient.IsGuestLine(e, 0, 1));

            // Edges.
            Assert.Equal("0", r.Value("rise4.rc"));
            Assert.Contains("RISING EDGE offset: 4", r.Value("rise4"), StringComparison.Ordinal);
            Assert.Equal("0", r.Value("fall5.rc"));
            Assert.Contains("FALLING EDGE offset: 5", r.Value("fall5"), StringComparison.Ordinal);
            Assert.Contains("RISING EDGE offset: 6", r.Value("both6a"), StringComparison.Ordinal);
            Assert.Contains("FALLING EDGE offset: 6", r.Value("both6b"), StringComparison.Ordinal);
            Assert.Equal("0", r.Value("both6c.rc"));
            Assert.Equal(2, Regex.Matches(r.Value("both6c"), "offset: 6").Count);

            // Levels.
            Assert.Equal("0", r.Value("lvlhigh.load"));
            Assert.Equal("3", r.Value("lvlhigh.count"));
            Assert.Equal("0", r.Value("lvllow.load"));
            Assert.Equal("2", r.Value("lvllow.count"));
            Assert.Equal(2, control.Events.Skip(marks["pre-level-low"]).Count(e => ControlClient.IsIrq(e, 7, "valid")));
            Assert.DoesNotContain(control.Events, e => e["event"]?.ToString() == "unparsable");

            // The daemon shuts down cleanly and its VCD trace recorded the activity.
            Assert.Equal(0, await daemon.StopAsync());
            Assert.True(new FileInfo(daemon.TracePath).Length > 0, "the VCD trace is empty");
        });
    }
}
