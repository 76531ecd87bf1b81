// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Transport.VhostUser.Inflight;
using VirtioGpio.Transport.VhostUser.Interop;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

/// <summary>INFLIGHT_SHMFD: the split-queue layout and the recovery algorithm (VHOST-USER.md §10).</summary>
public sealed class InflightTests
{
    [Theory]
    [InlineData(1, 16, 320)]
    [InlineData(2, 256, 4160)]
    [InlineData(2, 1024, 16448)]
    public void QueueRegionSizeIs16Plus16PerDescriptorRoundedTo64(int queues, int queueSize, int regionSize)
    {
        Assert.Equal((ulong)regionSize, InflightRegion.GetQueueRegionSize(queueSize));
        Assert.Equal(0UL, InflightRegion.GetQueueRegionSize(queueSize) % 64);
        Assert.True(queues > 0);
    }

    [Fact]
    public void GetInflightFdReturnsAnInitialisedMemfd()
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate();
        byte[] request = new byte[VhostUserInflightInfo.EncodedSize];
        new VhostUserInflightInfo(0, 0, 2, 256).Write(request);
        harness.Frontend.Send(FrontendRequest.GetInflightFd, request, needReply: true);
        var (header, payload, fds) = harness.Frontend.ReceiveWithFds();
        try
        {
            Assert.Equal((uint)FrontendRequest.GetInflightFd, header.Request);
            Assert.Single(fds);
            Assert.Equal(new VhostUserInflightInfo(2 * 4160, 0, 2, 256), VhostUserInflightInfo.Read(payload));
            Assert.Equal(0, FileDescriptors.TryGetFileSize(fds[0], out long size));
            Assert.Equal(2 * 4160, size);
            Assert.Equal(0, MappedMemory.TryMap(fds[0], 0, (ulong)size, out MappedMemory? mapping, out _));
            using (mapping)
            {
                for (int q = 0; q < 2; q++)
                {
                    Span<byte> region = mapping!.GetSpan((nuint)(q * 4160), 4160);
                    Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(region));
                    Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(region.Slice(8)));
                    Assert.Equal(256, BinaryPrimitives.ReadUInt16LittleEndian(region.Slice(10)));
                    Assert.True(region.Slice(12).IndexOfAnyExcept((byte)0) < 0);
                }
            }
        }
        finally
        {
            FileDescriptors.CloseAll(fds);
        }

        // Invalid geometry is refused (own reply type: the connection closes).
        new VhostUserInflightInfo(0, 0, 3, 256).Write(request);
        harness.Frontend.Send(FrontendRequest.GetInflightFd, request);
        Assert.True(harness.Frontend.WaitClosed());
    }

    [Fact]
    public void TrackerFollowsTheSplitAlgorithmAndRecoversInCounterOrder()
    {
        InflightRegion region = InflightRegion.CreateNew(1, 8, out int fd);
        try
        {
            var tracker = new InflightQueueTracker(region, 0);
            tracker.OnPopped(3);
            tracker.OnPopped(5);
            tracker.OnPopped(1);
            Span<byte> q = region.GetQueueSpan(0);
            Assert.Equal(1, q[16 + (3 * 16)]);
            Assert.Equal(2UL, BinaryPrimitives.ReadUInt64LittleEndian(q.Slice(16 + (5 * 16) + 8)));

            // Head 5 completes alone (out of order): next/last_batch_head linked, inflight cleared after publish.
            tracker.OnCompleting(5);
            Assert.Equal(5, BinaryPrimitives.ReadUInt16LittleEndian(q.Slice(12)));
            Assert.Equal(1, q[16 + (5 * 16)]);
            tracker.OnUsedIndexPublished(1);
            Assert.Equal(0, q[16 + (5 * 16)]);
            Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(q.Slice(14)));

            // Head 3 completes, used->idx reaches 2 in guest memory, but the back-end dies before recording it.
            tracker.OnCompleting(3);

            var restarted = new InflightQueueTracker(region, 0);
            Assert.Equal(new ushort[] { 1 }, restarted.Recover(2, 8));
            Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(q.Slice(14)));

            // New pops continue the counter after the largest recorded one.
            restarted.OnPopped(6);
            Assert.Equal(4UL, BinaryPrimitives.ReadUInt64LittleEndian(q.Slice(16 + (6 * 16) + 8)));
            Assert.Equal(new ushort[] { 1, 6 }, new InflightQueueTracker(region, 0).Recover(2, 8));
        }
        finally
        {
            region.Dispose();
            FileDescriptors.Close(fd);
        }
    }

    [Fact]
    [Trait("Spec", "VU16")]
    public void RestartedBackendResubmitsExactlyTheHeldPair()
    {
        using var ram = new GuestRam();
        var requests = new TestRing(ram, 0, 256, 0x1000);
        var events = new TestRing(ram, 1, 256, 0x20000);
        int[] fds = { EventFd.Create(), EventFd.Create(), EventFd.Create(), EventFd.Create() };
        int inflightFd = -1;
        try
        {
            byte[] inflightRequest = new byte[VhostUserInflightInfo.EncodedSize];
            new VhostUserInflightInfo(0, 0, 2, 256).Write(inflightRequest);
            VhostUserInflightInfo info;
            using (var first = new BackendHarness())
            {
                first.Handshake();
                first.SetMemTable(ram);
                first.Frontend.Send(FrontendRequest.GetInflightFd, inflightRequest);
                var reply = first.Frontend.ReceiveWithFds();
                inflightFd = reply.Fds[0];
                info = VhostUserInflightInfo.Read(reply.Payload);
                first.StartRing(requests, fds[0], fds[1]);
                first.StartRing(events, fds[2], fds[3]);
                foreach (ushort line in new ushort[] { 0, 1, 2 })
                {
                    requests.Submit(Request(3, line, 2), 2); // input
                    requests.Submit(Request(6, line, 3), 2); // edge both
                }

                EventFd.Signal(fds[0]);
                Assert.True(requests.WaitUsed(6));
                events.Submit(TestRing.IrqRequest(0), 1); // head 0
                events.Submit(TestRing.IrqRequest(1), 1); // head 2
                events.Submit(TestRing.IrqRequest(2), 1); // head 4
                EventFd.Signal(fds[2]);
                first.Sync();

                // Lines 2 and 1 fire, out of avail order; line 0's pair stays held.
                var backend = (SimulatedGpioLineBackend)first.Device.Backend;
                backend.SetInputLevel(2, LineValue.High);
                backend.SetInputLevel(1, LineValue.High);
                Assert.True(events.WaitUsed(2));
                Assert.Equal(4u, events.UsedElement(0).Id);
                Assert.Equal(2u, events.UsedElement(1).Id);
            } // the back-end is gone (its device too)

            // A new back-end process: fresh device, same front-end memory and inflight region.
            using var second = new BackendHarness();
            second.Handshake();
            Assert.Equal(0UL, second.Frontend.Ack(FrontendRequest.SetInflightFd, Encode(info), new[] { inflightFd }));
            second.SetMemTable(ram);
            second.StartRing(requests, fds[0], fds[1], baseIndex: 6);
            second.StartRing(events, fds[2], fds[3], baseIndex: 3);
            requests.Submit(Request(3, 0, 2), 2);
            requests.Submit(Request(6, 0, 3), 2);
            EventFd.Signal(fds[0]);
            Assert.True(requests.WaitUsed(8));
            ((SimulatedGpioLineBackend)second.Device.Backend).SetInputLevel(0, LineValue.High);
            Assert.True(events.WaitUsed(3), "the held pair was not resubmitted");
            Assert.Equal(0u, events.UsedElement(2).Id);
            second.Sync();
            Assert.Equal(3, events.UsedIdx); // no duplicate completions
        }
        finally
        {
            foreach (int fd in fds)
            {
                FileDescriptors.Close(fd);
            }

            FileDescriptors.Close(inflightFd);
        }
    }

    private static byte[] Encode(VhostUserInflightInfo info)
    {
        byte[] payload = new byte[VhostUserInflightInfo.EncodedSize];
        info.Write(payload);
        return payload;
    }

    private static byte[] Request(ushort type, ushort line, uint value)
    {
        byte[] request = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(request, type);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), line);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), value);
        return request;
    }
}
