// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Testing.VhostUser;

namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>
/// VHOST-USER.md §10 and §13 VU16: eventq pairs held by a back-end that dies are re-armed by the
/// next back-end from the inflight region, exactly once, and completed pairs are not completed
/// again, although the front-end rewinds the ring base to <c>used_idx</c> as QEMU does (§9).
/// </summary>
[Collection(ProtocolCollection.Name)]
public sealed class InflightReconnectTests
{
    private const ushort SetDirection = 3;
    private const ushort SetIrqType = 6;

    [Fact]
    [Trait("Spec", "VU16")]
    public async Task HeldPairIsReArmedExactlyOnceByARestartedBackend()
    {
        string directory = ProtocolServer.CreateTempDirectory();
        try
        {
            (VhostUserFrontendClient client, VhostUserInflightRegion region, uint heldHead) = await FirstBackendLifeAsync(directory);
            using var clientScope = client;
            using var regionScope = region;

            // Back-end 2: a fresh process would have a fresh device (line state lost).
            await using ProtocolServer second = ProtocolServer.Start(directory: directory);
            client.Reconnect(second.SocketPath);
            client.Negotiate();
            client.SetInflightFd(region);
            client.SetMemTable();
            VhostUserFrontendQueue requestq = client.Queues[0];
            VhostUserFrontendQueue eventq = client.Queues[1];

            // GET_VRING_BASE failed on the dead socket, so QEMU restarts each ring at its used index (hw/virtio/vhost.c vhost_virtqueue_stop).
            client.StartQueue(requestq, requestq.Driver.ReadUsedIndex());
            client.StartQueue(eventq, eventq.Driver.ReadUsedIndex());
            RingLifecycleTests.WaitUntil(() => second.Device.GetLineState(1).IsInterruptArmed || eventq.Driver.ReadUsedIndex() != 2, "the inflight pair was not re-armed");
            Assert.Equal(2, eventq.Driver.ReadUsedIndex()); // nothing completed again

            // The guest re-enables the line (its state died with the back-end); the re-armed pair fires once.
            Assert.Equal(0, requestq.SendGpioRequest(SetDirection, 1, 2).Written.Span[0]);
            Assert.Equal(0, requestq.SendGpioRequest(SetIrqType, 1, 3).Written.Span[0]);
            second.Lines.Toggle(1);
            DriverCompletion irq = Assert.Single(eventq.WaitForCompletions(1));
            Assert.True(irq.IsTracked, $"completion of an unknown or already completed head {irq.Id}");
            Assert.Equal(heldHead, irq.Id);
            Assert.Equal((byte)GpioIrqStatus.Valid, irq.Written.Span[0]);

            // No duplicates of the pairs completed before the crash.
            second.Lines.Toggle(2);
            second.Lines.Toggle(3);
            Thread.Sleep(200);
            Assert.Empty(eventq.TakeCompletions());
            Assert.Equal(0, eventq.Driver.OutstandingChainCount);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<(VhostUserFrontendClient Client, VhostUserInflightRegion Region, uint HeldHead)> FirstBackendLifeAsync(string directory)
    {
        await using ProtocolServer first = ProtocolServer.Start(directory: directory);
        VhostUserFrontendClient client = first.Connect();
        VhostUserInflightRegion? region = null;
        try
        {
            client.Negotiate();
            Assert.NotEqual(VhostUserProtocolFeatures.None, client.AckedProtocolFeatures & VhostUserProtocolFeatures.InflightShmfd);
            region = client.GetInflightFd(2, 256);
            Assert.Equal((ushort)2, region.NumQueues);
            Assert.True(region.MmapSize >= 2 * (16 + (16 * 256)));
            client.SetInflightFd(region);
            client.SetMemTable();
            VhostUserFrontendQueue requestq = client.SetUpQueue(0, 256);
            VhostUserFrontendQueue eventq = client.SetUpQueue(1, 256);
            for (ushort line = 1; line <= 3; line++)
            {
                Assert.Equal(0, requestq.SendGpioRequest(SetDirection, line, 2).Written.Span[0]);
                Assert.Equal(0, requestq.SendGpioRequest(SetIrqType, line, 3).Written.Span[0]);
            }

            SubmittedChain held = eventq.AddIrqPair(1);
            eventq.AddIrqPair(2);
            eventq.AddIrqPair(3);
            eventq.PublishAndKick();
            RingLifecycleTests.WaitUntil(
                () => first.Device.GetLineState(1).IsInterruptArmed && first.Device.GetLineState(2).IsInterruptArmed && first.Device.GetLineState(3).IsInterruptArmed,
                "the eventq pairs were not taken");

            // Complete two out of order: line 3, then line 2.
            first.Lines.Toggle(3);
            Assert.Single(eventq.WaitForCompletions(1));
            first.Lines.Toggle(2);
            Assert.Single(eventq.WaitForCompletions(1));
            Assert.False(held.IsCompleted);

            // Kill the back-end (leaving this method disposes it) with the pair for line 1 still held.
            return (client, region, held.HeadIndex);
        }
        catch
        {
            region?.Dispose();
            client.Dispose();
            throw;
        }
    }
}
