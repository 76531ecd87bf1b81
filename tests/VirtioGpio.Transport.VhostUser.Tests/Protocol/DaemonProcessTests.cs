// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Testing.VhostUser;

namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>
/// The front-end client against the <c>virtio-gpio</c> daemon running as a separate process: a
/// QEMU-like session, and VU16 with a back-end that is really killed (SIGKILL) and restarted.
/// </summary>
[Collection(ProtocolCollection.Name)]
public sealed class DaemonProcessTests
{
    private const ushort SetDirection = 3;
    private const ushort GetValue = 4;
    private const ushort SetIrqType = 6;
    private static readonly VhostUserFrontendClientOptions Options = new() { ConnectTimeout = TimeSpan.FromSeconds(60), Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    [Trait("Category", "Process")]
    public void ClientDrivesTheDaemonProcess()
    {
        string directory = ProtocolServer.CreateTempDirectory();
        try
        {
            using DaemonProcess daemon = DaemonProcess.Start(Path.Combine(directory, "gpio.sock"), Path.Combine(directory, "ctl.sock"), lines: 8);
            using VhostUserFrontendClient client = VhostUserFrontendClient.Connect(daemon.SocketPath, Options);
            client.Negotiate();
            Assert.Equal(8, client.GetConfig(0, 2)[0]);
            client.SetMemTable();
            VhostUserFrontendQueue requestq = client.SetUpQueue(0, 256);
            Assert.Equal(new byte[] { 0, 0 }, requestq.SendGpioRequest(GetValue, 3, 0).Written.ToArray());
            Assert.Contains("\"ok\":true", daemon.Control("{\"cmd\":\"set\",\"line\":3,\"value\":1}"), StringComparison.Ordinal);
            Assert.Equal(new byte[] { 0, 1 }, requestq.SendGpioRequest(GetValue, 3, 0).Written.ToArray());
            Assert.Equal(2u, client.GetVringBase(0));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    [Trait("Spec", "VU16")]
    [Trait("Category", "Process")]
    public void HeldPairSurvivesAKilledAndRestartedDaemonExactlyOnce()
    {
        string directory = ProtocolServer.CreateTempDirectory();
        string socket = Path.Combine(directory, "gpio.sock");
        try
        {
            DaemonProcess first = DaemonProcess.Start(socket, Path.Combine(directory, "ctl1.sock"), lines: 8);
            VhostUserFrontendClient client;
            try
            {
                client = VhostUserFrontendClient.Connect(socket, Options); // retries until the daemon listens
            }
            catch
            {
                first.Dispose();
                throw;
            }

            using var clientScope = client;
            VhostUserInflightRegion region;
            uint heldHead;
            using (first)
            {
                client.Negotiate();
                region = client.GetInflightFd(2, 256);
                client.SetInflightFd(region);
                client.SetMemTable();
                VhostUserFrontendQueue requestq = client.SetUpQueue(0, 256);
                VhostUserFrontendQueue eventq = client.SetUpQueue(1, 256);
                for (ushort line = 1; line <= 3; line++)
                {
                    Assert.Equal(0, requestq.SendGpioRequest(SetDirection, line, 2).Written.Span[0]);
                    Assert.Equal(0, requestq.SendGpioRequest(SetIrqType, line, 1).Written.Span[0]); // EDGE_RISING
                }

                SubmittedChain held = eventq.AddIrqPair(1);
                eventq.AddIrqPair(2);
                eventq.AddIrqPair(3);
                eventq.PublishAndKick();
                first.Control("{\"cmd\":\"set\",\"line\":3,\"value\":1}");
                Assert.Single(eventq.WaitForCompletions(1));
                first.Control("{\"cmd\":\"set\",\"line\":2,\"value\":1}");
                Assert.Single(eventq.WaitForCompletions(1));
                Assert.False(held.IsCompleted);
                heldHead = held.HeadIndex;
                first.Kill();
            }

            using (region)
            using (DaemonProcess second = DaemonProcess.Start(socket, Path.Combine(directory, "ctl2.sock"), lines: 8))
            {
                client.Reconnect();
                client.Negotiate();
                client.SetInflightFd(region);
                client.SetMemTable();
                VhostUserFrontendQueue requestq = client.Queues[0];
                VhostUserFrontendQueue eventq = client.Queues[1];
                client.StartQueue(requestq, requestq.Driver.ReadUsedIndex()); // QEMU's rewind after a failed GET_VRING_BASE
                client.StartQueue(eventq, eventq.Driver.ReadUsedIndex());
                Assert.Equal(0, requestq.SendGpioRequest(SetDirection, 1, 2).Written.Span[0]);
                Assert.Equal(0, requestq.SendGpioRequest(SetIrqType, 1, 1).Written.Span[0]);
                Assert.Equal(2, eventq.Driver.ReadUsedIndex()); // nothing completed twice
                second.Control("{\"cmd\":\"set\",\"line\":1,\"value\":1}");
                DriverCompletion irq = Assert.Single(eventq.WaitForCompletions(1));
                Assert.True(irq.IsTracked, $"completion of an unknown or already completed head {irq.Id}");
                Assert.Equal(heldHead, irq.Id);
                Assert.Equal((byte)GpioIrqStatus.Valid, irq.Written.Span[0]);
                second.Control("{\"cmd\":\"set\",\"line\":2,\"value\":0}");
                second.Control("{\"cmd\":\"set\",\"line\":3,\"value\":0}");
                Thread.Sleep(200);
                Assert.Empty(eventq.TakeCompletions());
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
