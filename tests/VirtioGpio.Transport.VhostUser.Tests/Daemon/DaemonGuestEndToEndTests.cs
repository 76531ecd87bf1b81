// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Text.Json;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Testing.VhostUser;

namespace VirtioGpio.Transport.VhostUser.Tests.Daemon;

/// <summary>
/// The real daemon process with a vhost-user front-end (the test client playing QEMU + guest driver) and a control
/// client: guest-driven changes and interrupt deliveries reach subscribers, host stimulus reaches the guest, and line
/// state survives a front-end reconnect.
/// </summary>
[Trait("Category", "Daemon")]
public sealed class DaemonGuestEndToEndTests : IDisposable
{
    private const int SIGTERM = 15;
    private const ushort SetDirection = 3;
    private const ushort GetValue = 4;
    private const ushort SetValue = 5;
    private const ushort SetIrqType = 6;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    [Trait("Spec", "VU-reconnect")]
    public async Task GuestChanges_Interrupts_AndHostStimulus_FlowThroughTheControlSocket()
    {
        string socket = _dir.File("g.sock");
        string control = _dir.File("c.ctl");
        using DaemonProcess daemon = DaemonProcess.Start("--socket", socket, "--names", "LED0,,BTN1,RELAY", "--control", control);
        await daemon.WaitForSocketsAsync(socket);
        using var host = new ControlClient(control);
        using var watcher = new ControlClient(control);
        Assert.True((await watcher.RequestAsync("""{"cmd":"subscribe"}""")).GetProperty("ok").GetBoolean());

        using (VhostUserFrontendClient guest = VhostUserFrontendClient.Connect(socket))
        {
            guest.Negotiate();
            guest.SetMemTable();
            VhostUserFrontendQueue requestq = guest.SetUpQueue(0, 64);
            VhostUserFrontendQueue eventq = guest.SetUpQueue(1, 64);
            Assert.Equal("connected", (await NextEventAsync(watcher)).GetProperty("event").GetString());

            // Guest: LED0 output high (SET_DIRECTION out, SET_VALUE 1).
            Assert.Equal(0, requestq.SendGpioRequest(SetDirection, 0, 1).Written.Span[0]);
            Assert.Equal(0, requestq.SendGpioRequest(SetValue, 0, 1).Written.Span[0]);
            JsonElement high = await watcher.ReadUntilAsync(e =>
                IsEvent(e, "line") && e.GetProperty("line").GetInt32() == 0 && e.GetProperty("value").GetInt32() == 1);
            Assert.Equal("guest", high.GetProperty("source").GetString());
            Assert.Equal("out", high.GetProperty("direction").GetString());

            JsonElement led = await host.RequestAsync("""{"cmd":"get","line":"LED0"}""");
            Assert.Equal(("out", 1), (led.GetProperty("direction").GetString(), led.GetProperty("value").GetInt32()));

            // Guest: BTN1 input with a rising-edge interrupt and one eventq buffer.
            Assert.Equal(0, requestq.SendGpioRequest(SetDirection, 2, 2).Written.Span[0]);
            Assert.Equal(0, requestq.SendGpioRequest(SetIrqType, 2, 1).Written.Span[0]);
            eventq.AddIrqPair(2);
            eventq.PublishAndKick();

            // Host presses the button: the guest gets the interrupt, the subscriber sees it.
            Assert.True((await host.RequestAsync("""{"cmd":"set","line":"BTN1","value":1}""")).GetProperty("applied").GetBoolean());
            IReadOnlyList<DriverCompletion> irq = eventq.WaitForCompletions(1, Timeout);
            Assert.Equal(1, irq[0].Written.Span[0]); // VIRTIO_GPIO_IRQ_STATUS_VALID
            JsonElement delivered = await watcher.ReadUntilAsync(e => IsEvent(e, "irq"));
            Assert.Equal((2, "valid"), (delivered.GetProperty("line").GetInt32(), delivered.GetProperty("status").GetString()));

            // The guest reads the level the host set.
            DriverCompletion value = requestq.SendGpioRequest(GetValue, 2, 0);
            Assert.Equal(new byte[] { 0, 1 }, value.Written.ToArray());
        }

        Assert.Equal("disconnected", (await watcher.ReadUntilAsync(e => IsEvent(e, "disconnected"))).GetProperty("event").GetString());

        // A new front-end finds the same line state (VHOST-USER.md §9: the device outlives connections).
        using (VhostUserFrontendClient guest = VhostUserFrontendClient.Connect(socket))
        {
            guest.Negotiate();
            guest.SetMemTable();
            VhostUserFrontendQueue requestq = guest.SetUpQueue(0, 64);
            Assert.Equal(new byte[] { 0, 1 }, requestq.SendGpioRequest(GetValue, 0, 0).Written.ToArray());
            Assert.Equal(new byte[] { 0, 1 }, requestq.SendGpioRequest(GetValue, 2, 0).Written.ToArray());
        }

        daemon.Signal(SIGTERM);
        Assert.Equal(0, await daemon.WaitForExitAsync(DaemonProcess.DefaultTimeout));
        Assert.False(File.Exists(socket));
    }

    [Fact]
    public async Task DraftDialect_ServesTheDraftConfigWithNames()
    {
        string socket = _dir.File("d.sock");
        using DaemonProcess daemon = DaemonProcess.Start("--socket", socket, "--dialect", "draft", "--names", "LED0,,BTN1,RELAY");
        await daemon.WaitForSocketsAsync(socket);
        using (VhostUserFrontendClient guest = VhostUserFrontendClient.Connect(socket))
        {
            guest.Negotiate();
            byte[] config = guest.GetConfig(0, 0x40);
            Assert.Equal(1, config[0]);                                                  // DRAFT.md §2.1 version
            Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(config.AsSpan(2)));  // num_gpios
            Assert.NotEqual(0u, BinaryPrimitives.ReadUInt32LittleEndian(config.AsSpan(4))); // names_size
        }

        daemon.Signal(SIGTERM);
        Assert.Equal(0, await daemon.WaitForExitAsync(DaemonProcess.DefaultTimeout));
    }

    [Fact]
    public async Task NoIrq_WithholdsVirtioGpioFIrq()
    {
        string socket = _dir.File("n.sock");
        using DaemonProcess daemon = DaemonProcess.Start("--socket", socket, "--no-irq");
        await daemon.WaitForSocketsAsync(socket);
        using (VhostUserFrontendClient guest = VhostUserFrontendClient.Connect(socket))
        {
            ulong features = guest.GetFeatures();
            Assert.Equal(0UL, features & VhostUserFrontendClient.GpioIrqFeature);
            Assert.NotEqual(0UL, features & (1UL << 32)); // VERSION_1
        }

        daemon.Signal(SIGTERM);
        Assert.Equal(0, await daemon.WaitForExitAsync(DaemonProcess.DefaultTimeout));
    }

    private static bool IsEvent(JsonElement e, string name)
        => e.TryGetProperty("event", out JsonElement kind) && kind.GetString() == name;

    private static async Task<JsonElement> NextEventAsync(ControlClient client)
        => await client.ReadUntilAsync(e => e.TryGetProperty("event", out _));
}
