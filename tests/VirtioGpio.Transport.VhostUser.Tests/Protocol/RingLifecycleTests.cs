// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Testing.VhostUser;

namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>VHOST-USER.md §6, §9 and §13 VU7, VU9, VU10, VU14, VU17 over a whole server.</summary>
[Collection(ProtocolCollection.Name)]
public sealed class RingLifecycleTests
{
    private const ushort GetDirection = 2;
    private const ushort SetDirection = 3;
    private const ushort GetValue = 4;
    private const ushort SetValue = 5;
    private const ushort SetIrqType = 6;

    [Fact]
    [Trait("Spec", "VU7")]
    public async Task KickBeforeEnableCompletesRightAfterTheEnable()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.Connect();
        client.Negotiate();
        client.SetMemTable();
        VhostUserFrontendQueue queue = client.SetUpQueue(0, 256, enable: false);

        // The guest's first request (GET_LINE_NAMES during probe) kicks before SET_VRING_ENABLE arrives (§12.4).
        queue.AddGpioRequest(1, 0, 0, 57);
        queue.PublishAndKick();
        Thread.Sleep(500);
        Assert.Equal(0, queue.Driver.ReadUsedIndex()); // started and disabled: chains stay in the avail ring (§6.1)

        client.SetVringEnable(0, true);
        DriverCompletion done = Assert.Single(queue.WaitForCompletions(1));
        Assert.Equal(57u, done.Length);
        Assert.Equal(0, done.Written.Span[0]);
    }

    [Fact]
    [Trait("Spec", "VU10")]
    public async Task GetVringBaseWithUnprocessedRequestsReturnsTheTakenCountAndTheyCompleteOnceAfterRestart()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.Connect();
        client.Negotiate();
        client.SetMemTable();
        VhostUserFrontendQueue queue = client.SetUpQueue(0, 256, enable: false);
        for (ushort i = 0; i < 5; i++)
        {
            queue.AddGpioRequest(GetValue, i, 0);
        }

        queue.PublishAndKick();
        Assert.Equal(0u, client.GetVringBase(0)); // nothing taken while disabled
        Thread.Sleep(200);
        Assert.Equal(0, queue.Driver.ReadUsedIndex()); // stopped: no used-ring write after the reply

        client.StartQueue(queue, 0);
        IReadOnlyList<DriverCompletion> done = queue.WaitForCompletions(5);
        Assert.Equal(5, done.Count);
        Assert.All(done, d => Assert.True(d.IsTracked && d.Length == 2 && d.Written.Span[0] == 0));
        Thread.Sleep(100);
        Assert.Empty(queue.TakeCompletions());
        Assert.Equal(5u, client.GetVringBase(0));
    }

    [Fact]
    [Trait("Spec", "VU9")]
    [Trait("Spec", "VU10")]
    public async Task SuspendedDeviceWritesNothingAndDeliversTheLatchedEdgeAfterRestart()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.ConnectAndStart(withEventQueue: true);
        VhostUserFrontendQueue requestq = client.Queues[0];
        VhostUserFrontendQueue eventq = client.Queues[1];
        Assert.Equal(0, requestq.SendGpioRequest(SetDirection, 1, 2).Written.Span[0]);   // line 1 input
        Assert.Equal(0, requestq.SendGpioRequest(SetIrqType, 1, 3).Written.Span[0]);     // EDGE_BOTH
        eventq.AddIrqPair(1);
        eventq.PublishAndKick();
        WaitUntil(() => server.Device.GetLineState(1).IsInterruptArmed, "the eventq pair was not taken");

        // Stop both rings: the device is suspended (§6.2). The held pair counts as taken (VU10).
        Assert.Equal(2u, client.GetVringBase(0));
        Assert.Equal(1u, client.GetVringBase(1));
        eventq.DrainCalls();
        requestq.DrainCalls();

        server.Lines.Toggle(1);
        Thread.Sleep(200);
        Assert.Equal(0, eventq.Driver.ReadUsedIndex());
        Assert.False(eventq.WaitForCall(TimeSpan.Zero));
        Assert.False(requestq.WaitForCall(TimeSpan.Zero));
        Assert.True(server.Device.GetLineState(1).IsEdgeLatched || server.Device.GetLineState(1).IsInterruptArmed);

        // Restart with the same addresses and bases: the held pair survives and the latched edge is delivered.
        client.StartQueue(requestq, 2);
        client.StartQueue(eventq, 1);
        DriverCompletion irq = Assert.Single(eventq.WaitForCompletions(1));
        Assert.Equal(1u, irq.Length);
        Assert.Equal((byte)GpioIrqStatus.Valid, irq.Written.Span[0]);
    }

    [Fact]
    [Trait("Spec", "VU14")]
    public async Task ReplacedCallFdIsClosedAndLaterSignalsGoToTheNewOne()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.ConnectAndStart();
        VhostUserFrontendQueue queue = client.Queues[0];
        using var old = new FdProbe();
        client.SetVringCall(0, old.Fd);
        Assert.Equal(0, queue.SendGpioRequest(GetValue, 0, 0).Written.Span[0]);

        int fresh = queue.RenewCallFd();
        client.SetVringCall(0, fresh);
        Assert.True(old.WaitUntilPeerClosed(ProtocolAssert.Wait), "the replaced call fd was not closed");

        queue.DrainCalls();
        queue.AddGpioRequest(GetValue, 1, 0);
        queue.PublishAndKick();
        Assert.True(queue.WaitForCall(ProtocolAssert.Wait), "no call on the new eventfd");
        Assert.Single(queue.WaitForCompletions(1));
    }

    [Fact]
    [Trait("Spec", "VU17")]
    public async Task ResetDeviceRestoresDefaultsForgetsHeldPairsAndDisablesRings()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.ConnectAndStart(withEventQueue: true);
        VhostUserFrontendQueue requestq = client.Queues[0];
        VhostUserFrontendQueue eventq = client.Queues[1];
        ArmLineOneAndDriveLineTwo(server, requestq, eventq);

        client.ResetDevice();

        Assert.Equal(GpioDirection.None, server.Device.GetLineState(2).Direction);
        Assert.Equal(GpioIrqType.None, server.Device.GetLineState(1).IrqType);
        requestq.AddGpioRequest(GetValue, 0, 0);
        requestq.PublishAndKick();
        server.Lines.Toggle(1);
        Thread.Sleep(200);
        Assert.Equal(0, eventq.Driver.ReadUsedIndex());  // the held pair is forgotten, not completed
        Assert.Equal(4, requestq.Driver.ReadUsedIndex()); // the ring is disabled: the new request stays unanswered

        // The driver re-initialises everything, as after a virtio reset.
        RestartAfterReset(client);
        Assert.Equal(new byte[] { 0, 0 }, client.Queues[0].SendGpioRequest(GetDirection, 2, 0).Written.ToArray());
    }

    [Fact]
    [Trait("Spec", "VU17")]
    public async Task SetStatusIsReportedBackAndZeroResetsTheDevice()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.ConnectAndStart(withEventQueue: true);
        client.SetStatus(0x0F);
        Assert.Equal(0x0F, client.GetStatus());
        ArmLineOneAndDriveLineTwo(server, client.Queues[0], client.Queues[1]);

        client.SetStatus(0);
        Assert.Equal(0, client.GetStatus());
        Assert.Equal(GpioDirection.None, server.Device.GetLineState(2).Direction);
        server.Lines.Toggle(1);
        Thread.Sleep(200);
        Assert.Equal(0, client.Queues[1].Driver.ReadUsedIndex());

        RestartAfterReset(client);
        client.SetStatus(0x0F);
        Assert.Equal(new byte[] { 0, 0 }, client.Queues[0].SendGpioRequest(GetDirection, 2, 0).Written.ToArray());
    }

    private static void ArmLineOneAndDriveLineTwo(ProtocolServer server, VhostUserFrontendQueue requestq, VhostUserFrontendQueue eventq)
    {
        Assert.Equal(0, requestq.SendGpioRequest(SetValue, 2, 1).Written.Span[0]);
        Assert.Equal(0, requestq.SendGpioRequest(SetDirection, 2, 1).Written.Span[0]);   // line 2 output high
        Assert.Equal(GpioDirection.Output, server.Device.GetLineState(2).Direction);
        Assert.Equal(0, requestq.SendGpioRequest(SetDirection, 1, 2).Written.Span[0]);   // line 1 input
        Assert.Equal(0, requestq.SendGpioRequest(SetIrqType, 1, 3).Written.Span[0]);     // EDGE_BOTH
        eventq.AddIrqPair(1);
        eventq.PublishAndKick();
        WaitUntil(() => server.Device.GetLineState(1).IsInterruptArmed, "the eventq pair was not taken");
    }

    private static void RestartAfterReset(VhostUserFrontendClient client)
    {
        client.SetFeatures(client.AckedFeatures);
        client.SetMemTable();
        foreach (VhostUserFrontendQueue queue in client.Queues.Values)
        {
            queue.Driver.ResetRings();
            client.StartQueue(queue, 0);
        }
    }

    internal static void WaitUntil(Func<bool> condition, string failure)
    {
        DateTime deadline = DateTime.UtcNow + ProtocolAssert.Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            Thread.Sleep(2);
        }
    }
}
