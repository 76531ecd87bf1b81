// SPDX-License-Identifier: MIT
using VirtioGpio.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace VirtioGpio.IntegrationTests;

/// <summary>
/// The daemon with <c>--no-irq</c> (no VIRTIO_GPIO_F_IRQ): QEMU 10's vhost-user-gpio still sets up two virtqueues, so
/// the back-end must accept the eventq's ring messages; the guest then drives lines without interrupts and
/// <c>gpiomon</c> fails instead of hanging.
/// </summary>
[Collection(RealGuestCollection.Name)]
[Trait("Category", "RequiresQemu")]
public sealed class GuestNoIrqTests
{
    private const string Names = "led0,led1,in2,in3,mon4";
    private readonly GuestFixture _fixture;
    private readonly ITestOutputHelper _output;

    public GuestNoIrqTests(GuestFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    [RequiresGuestTheory]
    [InlineData(GuestTransport.Pci)]
    [InlineData(GuestTransport.Mmio)]
    public async Task Without_F_IRQ_the_guest_drives_lines_and_event_requests_fail(GuestTransport transport)
    {
        _output.WriteLine(_fixture.Describe());
        await using DaemonProcess daemon = await DaemonProcess.StartAsync(Names, GuestEnvironment.StepTimeout, "--no-irq");
        await using ControlClient control = await ControlClient.ConnectAsync(daemon.ControlPath);
        await control.SubscribeAsync();
        var runs = new List<GuestRunResult>();
        await GuestFailure.WithContextAsync(daemon, control, () => runs, async () =>
        {
            await control.SetAsync(2, 1);
            GuestRunResult r = await QemuGuest.BootAsync(transport, daemon.SocketPath, "no-irq.sh", null,
                step => throw new InvalidOperationException("unexpected guest step " + step), _output.WriteLine);
            runs.Add(r);

            Assert.Equal("yes", r.Value("finished"));
            Assert.Contains("(5 lines)", r.Value("detect"), StringComparison.Ordinal);
            Assert.Equal("1", r.Value("get2"));
            Assert.Equal("0", r.Value("set1.rc"));
            Assert.Contains(control.Events, e => ControlClient.IsGuestLine(e, 1, 1));
            // gpiomon fails at once (no interrupt for the line); 124/143 would mean the guest-side timeout killed it.
            Assert.DoesNotContain(r.Value("mon.rc"), new[] { "0", "124", "143" });
            Assert.DoesNotContain(control.Events, e => e["event"]?.ToString() == "irq");
            Assert.All(await control.ListAsync(), l => Assert.Equal("none", l?["irq"]?.ToString()));
        });
    }
}
