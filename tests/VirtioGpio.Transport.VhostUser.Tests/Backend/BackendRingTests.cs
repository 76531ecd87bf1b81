// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Transport.VhostUser.Interop;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

/// <summary>The ring state machine against a real VirtioGpioDevice (VHOST-USER.md §6; VU6, VU8, VU10, VU12, VU17).</summary>
public sealed class BackendRingTests
{
    private static byte[] Request(ushort type, ushort line, uint value)
    {
        byte[] request = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(request, type);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), line);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), value);
        return request;
    }

    private static void Kick(int kickFd) => Assert.True(EventFd.Signal(kickFd));

    [Fact]
    public void RequestCompletesAndSignalsTheCallFd()
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam();
        var ring = new TestRing(ram, 0, 256, 0x1000);
        int kick = EventFd.Create();
        int call = EventFd.Create();
        try
        {
            harness.Handshake();
            harness.SetMemTable(ram);
            harness.StartRing(ring, kick, call);
            ((SimulatedGpioLineBackend)harness.Device.Backend).SetInputLevel(3, LineValue.High);

            ushort head = ring.Submit(TestRing.GetValueRequest(3), 2);
            Kick(kick);
            Assert.True(ring.WaitUsed(1), "the request was not completed");
            Assert.True(EventFd.Wait(call, TestFrontend.TimeoutMilliseconds), "no call signal");
            Assert.Equal(((uint)head, 2u), ring.UsedElement(0));
            Assert.Equal(new byte[] { 0, 1 }, ring.Response(head, 2));
        }
        finally
        {
            FileDescriptors.Close(kick);
            FileDescriptors.Close(call);
        }
    }

    [Fact]
    [Trait("Spec", "VU7")]
    public void KickBeforeEnableIsProcessedWhenTheRingIsEnabled()
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam();
        var ring = new TestRing(ram, 0, 1024, 0x1000);
        int kick = EventFd.Create();
        int call = EventFd.Create();
        try
        {
            harness.Handshake();
            harness.SetMemTable(ram);
            harness.StartRing(ring, kick, call, enable: false);
            ring.Submit(TestRing.GetValueRequest(0), 2);
            Kick(kick);
            harness.Sync();
            Assert.Equal(0, ring.UsedIdx); // started but disabled: the chain stays in the avail ring
            Assert.False(harness.Device.GetQueue(0).IsReady);

            harness.Frontend.Send(FrontendRequest.SetVringEnable, TestFrontend.State(0, 1));
            Assert.True(ring.WaitUsed(1), "the early kick was lost");
        }
        finally
        {
            FileDescriptors.Close(kick);
            FileDescriptors.Close(call);
        }
    }

    [Theory]
    [Trait("Spec", "VU6")]
    [InlineData(1u, true)]
    [InlineData(256u, true)]
    [InlineData(1024u, true)]
    [InlineData(2048u, true)]
    [InlineData(32768u, true)]
    [InlineData(0u, false)]
    [InlineData(3u, false)]
    [InlineData(1000u, false)]
    [InlineData(65536u, false)]
    public void RingSizesUpTo32768AreAccepted(uint size, bool accepted)
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate();
        ulong ack = harness.Frontend.Ack(FrontendRequest.SetVringNum, TestFrontend.State(0, size));
        Assert.Equal(accepted, ack == 0);
    }

    [Theory]
    [Trait("Spec", "VU6")]
    [InlineData(0u)]
    [InlineData(3u)]
    [InlineData(65536u)]
    public void InvalidRingSizeWithoutReplyAckKeepsTheConnection(uint size)
    {
        using var harness = new BackendHarness();
        harness.Frontend.Send(FrontendRequest.SetVringNum, TestFrontend.State(0, size));
        Assert.Equal(harness.Device.DeviceFeatures | (1UL << 30), harness.Frontend.Get(FrontendRequest.GetFeatures));
    }

    [Fact]
    [Trait("Spec", "LVU-6")]
    public void RingMessagesCheckTheQueueIndex()
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate();
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetVringNum, TestFrontend.State(2, 256)));
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetVringBase, TestFrontend.State(0xFFFFFFFF, 0)));
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetVringEnable, TestFrontend.State(7, 1)));
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetVringCall, TestFrontend.U64(0x100 | 5)));
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetVringBase, TestFrontend.State(0, 0x10000)));

        // GET_VRING_BASE has its own reply: an invalid index closes the connection.
        harness.Frontend.Send(FrontendRequest.GetVringBase, TestFrontend.State(9, 0));
        Assert.True(harness.Frontend.WaitClosed());
    }

    [Fact]
    [Trait("Spec", "VU8")]
    public void EnabledRingWithoutAddressesIsNeverTouched()
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam();
        int kick = EventFd.Create();
        int call = EventFd.Create();
        try
        {
            harness.Handshake();
            harness.SetMemTable(ram);
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringNum, TestFrontend.State(1, 256)));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringKick, TestFrontend.U64(1), new[] { kick }));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringCall, TestFrontend.U64(1), new[] { call }));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringEnable, TestFrontend.State(1, 1)));
            Kick(kick);
            harness.Sync();

            Assert.False(harness.Device.GetQueue(1).IsReady);
            Assert.False(EventFd.Wait(call, 50));
            Assert.True(ram.Span(0, (int)ram.Size).IndexOfAnyExcept((byte)0) < 0, "guest memory was written");
        }
        finally
        {
            FileDescriptors.Close(kick);
            FileDescriptors.Close(call);
        }
    }

    [Fact]
    [Trait("Spec", "VU10")]
    public void GetVringBaseCountsHeldEventPairsAndStopsTheRing()
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam();
        var requests = new TestRing(ram, 0, 256, 0x1000);
        var events = new TestRing(ram, 1, 256, 0x20000);
        int[] fds = { EventFd.Create(), EventFd.Create(), EventFd.Create(), EventFd.Create() };
        try
        {
            harness.Handshake();
            harness.SetMemTable(ram);
            harness.StartRing(requests, fds[0], fds[1]);
            harness.StartRing(events, fds[2], fds[3]);

            // Line 0: input, interrupts on both edges.
            requests.Submit(Request(3, 0, 2), 2);
            requests.Submit(Request(6, 0, 3), 2);
            Kick(fds[0]);
            Assert.True(requests.WaitUsed(2));

            // Three pairs, all held (no edge yet; lines 1 and 2 not armed).
            events.Submit(TestRing.IrqRequest(0), 1);
            events.Submit(TestRing.IrqRequest(1), 1);
            events.Submit(TestRing.IrqRequest(2), 1);
            Kick(fds[2]);
            harness.Sync();

            harness.Frontend.Send(FrontendRequest.GetVringBase, TestFrontend.State(1, 0));
            var (header, payload) = harness.Frontend.Receive();
            Assert.Equal((uint)FrontendRequest.GetVringBase, header.Request);
            Assert.Equal(new VhostUserVringState(1, 3), VhostUserVringState.Read(payload));
            Assert.Equal(0, events.UsedIdx);
            Assert.False(harness.Device.GetQueue(1).IsReady);
            while (EventFd.Wait(fds[3], 0))
            {
            }

            // An edge after the stop is latched: no used-ring write, no call signal.
            ((SimulatedGpioLineBackend)harness.Device.Backend).SetInputLevel(0, LineValue.High);
            harness.Sync();
            Assert.Equal(0, events.UsedIdx);
            Assert.False(EventFd.Wait(fds[3], 50));

            // Restart with the returned base and the same ring: the held pair for line 0 delivers the edge.
            int newKick = EventFd.Create();
            harness.StartRing(events, newKick, fds[3], baseIndex: 3);
            Assert.True(events.WaitUsed(1), "the latched edge was not delivered after the restart");
            Assert.Equal(0u, events.UsedElement(0).Id);
            Assert.Equal(new byte[] { 1 }, events.Response(0, 1));
            FileDescriptors.Close(newKick);
        }
        finally
        {
            foreach (int fd in fds)
            {
                FileDescriptors.Close(fd);
            }
        }
    }

    [Fact]
    public void RestartWithAnotherBaseForgetsHeldPairs()
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam();
        var requests = new TestRing(ram, 0, 256, 0x1000);
        var events = new TestRing(ram, 1, 256, 0x20000);
        int[] fds = { EventFd.Create(), EventFd.Create(), EventFd.Create(), EventFd.Create(), EventFd.Create() };
        try
        {
            harness.Handshake();
            harness.SetMemTable(ram);
            harness.StartRing(requests, fds[0], fds[1]);
            harness.StartRing(events, fds[2], fds[3]);
            requests.Submit(Request(3, 0, 2), 2);
            requests.Submit(Request(6, 0, 3), 2);
            Kick(fds[0]);
            Assert.True(requests.WaitUsed(2));
            events.Submit(TestRing.IrqRequest(0), 1);
            Kick(fds[2]);
            harness.Sync();
            harness.Frontend.Send(FrontendRequest.GetVringBase, TestFrontend.State(1, 0));
            Assert.Equal(1u, VhostUserVringState.Read(harness.Frontend.Receive().Payload).Num);

            // The driver re-initialised the queue (base 0, fresh ring): the held pair is forgotten.
            ram.Span(events.Descriptors, (int)(events.End - events.Descriptors)).Clear();
            var fresh = new TestRing(ram, 1, 256, 0x20000);
            harness.StartRing(fresh, fds[4], fds[3], baseIndex: 0);
            ((SimulatedGpioLineBackend)harness.Device.Backend).SetInputLevel(0, LineValue.High);
            harness.Sync();
            Assert.Equal(0, fresh.UsedIdx);
            Assert.False(harness.Device.GetLineState(0).IsInterruptArmed);
        }
        finally
        {
            foreach (int fd in fds)
            {
                FileDescriptors.Close(fd);
            }
        }
    }

    [Fact]
    [Trait("Spec", "VU12")]
    public void RingStraddlingTwoRegionsOrOutsideAllRegionsIsRefused()
    {
        using var harness = new BackendHarness();
        using var low = new GuestRam(0x10000, 0);
        using var high = new GuestRam(0x10000, 0x10000);
        int kick = EventFd.Create();
        int call = EventFd.Create();
        try
        {
            harness.Handshake();
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetMemTable, GuestRam.MemTable(low.Region, high.Region), new[] { low.Fd, high.Fd }));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringNum, TestFrontend.State(0, 256)));

            // Descriptor table: last 2 KiB of the low region + 2 KiB of the high one (contiguous GPAs,
            // separate host mappings).
            byte[] straddling = new byte[VhostUserVringAddress.Size];
            new VhostUserVringAddress(0, 0, low.UserAddress(0xF800), high.UserAddress(0x12000), high.UserAddress(0x11000), 0x12000).Write(straddling);
            Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetVringAddr, straddling));

            byte[] outside = new byte[VhostUserVringAddress.Size];
            new VhostUserVringAddress(0, 0, 0x10, 0x20000, 0x18000, 0).Write(outside);
            Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetVringAddr, outside));

            // Used ring whose start is mapped but whose end is not (CVE-2018-1059 class).
            byte[] tail = new byte[VhostUserVringAddress.Size];
            new VhostUserVringAddress(0, 0, high.UserAddress(0x10000), high.UserAddress(0x1FF00), high.UserAddress(0x11000), 0).Write(tail);
            Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetVringAddr, tail));

            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringKick, TestFrontend.U64(0), new[] { kick }));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringEnable, TestFrontend.State(0, 1)));
            Assert.False(harness.Device.GetQueue(0).IsReady);
        }
        finally
        {
            FileDescriptors.Close(kick);
            FileDescriptors.Close(call);
        }
    }

    [Theory]
    [Trait("Spec", "VU17")]
    [InlineData(true)]
    [InlineData(false)]
    public void ResetDeviceOrStatusZeroResetsLinesForgetsPairsAndDisablesRings(bool useResetDevice)
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam();
        var requests = new TestRing(ram, 0, 256, 0x1000);
        var events = new TestRing(ram, 1, 256, 0x20000);
        int[] fds = { EventFd.Create(), EventFd.Create(), EventFd.Create(), EventFd.Create() };
        try
        {
            harness.Handshake();
            harness.SetMemTable(ram);
            harness.StartRing(requests, fds[0], fds[1]);
            harness.StartRing(events, fds[2], fds[3]);
            requests.Submit(Request(5, 1, 1), 2); // SET_VALUE line 1 = 1
            requests.Submit(Request(3, 1, 1), 2); // SET_DIRECTION line 1 = OUT
            requests.Submit(Request(3, 0, 2), 2); // line 0 input
            requests.Submit(Request(6, 0, 3), 2); // line 0 edge both
            Kick(fds[0]);
            Assert.True(requests.WaitUsed(4));
            events.Submit(TestRing.IrqRequest(0), 1);
            Kick(fds[2]);
            harness.Sync();
            Assert.Equal(GpioDirection.Output, harness.Device.GetLineState(1).Direction);

            if (useResetDevice)
            {
                Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.ResetDevice));
            }
            else
            {
                Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetStatus, TestFrontend.U64(0)));
            }

            Assert.False(harness.Device.GetQueue(0).IsReady);
            Assert.False(harness.Device.GetQueue(1).IsReady);
            Assert.Equal(GpioDirection.None, harness.Device.GetLineState(1).Direction);
            Assert.Equal(GpioIrqType.None, harness.Device.GetLineState(0).IrqType);
            ((SimulatedGpioLineBackend)harness.Device.Backend).SetInputLevel(0, LineValue.High);
            harness.Sync();
            Assert.Equal(0, events.UsedIdx); // forgotten, not completed
            Assert.Equal(0UL, harness.Frontend.Get(FrontendRequest.GetStatus));

            // Kicks after the reset do nothing: the rings are stopped, disabled and unconfigured.
            Kick(fds[0]);
            requests.Submit(Request(4, 0, 0), 2);
            harness.Sync();
            Assert.Equal(4, requests.UsedIdx);
        }
        finally
        {
            foreach (int fd in fds)
            {
                FileDescriptors.Close(fd);
            }
        }
    }

    [Fact]
    public void SetFeaturesWithoutProtocolFeaturesBitEnablesAllRings()
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam();
        var ring = new TestRing(ram, 0, 256, 0x1000);
        int kick = EventFd.Create();
        int call = EventFd.Create();
        try
        {
            ulong offered = harness.Frontend.Get(FrontendRequest.GetFeatures);
            harness.Frontend.Send(FrontendRequest.SetFeatures, TestFrontend.U64(offered & ~(1UL << 30)));
            harness.Frontend.Send(FrontendRequest.SetMemTable, GuestRam.MemTable(ram.Region), fds: new[] { ram.Fd });
            harness.Frontend.Send(FrontendRequest.SetVringNum, TestFrontend.State(0, 256));
            harness.Frontend.Send(FrontendRequest.SetVringAddr, ring.AddressPayload());
            harness.Frontend.Send(FrontendRequest.SetVringCall, TestFrontend.U64(0), fds: new[] { call });
            harness.Frontend.Send(FrontendRequest.SetVringKick, TestFrontend.U64(0), fds: new[] { kick });
            ring.Submit(TestRing.GetValueRequest(0), 2);
            Kick(kick);
            Assert.True(ring.WaitUsed(1));
        }
        finally
        {
            FileDescriptors.Close(kick);
            FileDescriptors.Close(call);
        }
    }

    [Fact]
    public void PollingKickWithoutFdProcessesTheRing()
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam();
        var ring = new TestRing(ram, 0, 256, 0x1000);
        int call = EventFd.Create();
        try
        {
            harness.Handshake();
            harness.SetMemTable(ram);
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringNum, TestFrontend.State(0, 256)));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringAddr, ring.AddressPayload()));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringCall, TestFrontend.U64(0x100)));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringKick, TestFrontend.U64(0x100)));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringEnable, TestFrontend.State(0, 1)));
            ring.Submit(TestRing.GetValueRequest(0), 2);
            Assert.True(ring.WaitUsed(1), "a polled ring was not processed");
        }
        finally
        {
            FileDescriptors.Close(call);
        }
    }

    [Fact]
    public void BrokenRingSignalsTheErrFdAndSendsConfigChangeOnTheBackendChannel()
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam();
        var ring = new TestRing(ram, 0, 256, 0x1000);
        int[] fds = { EventFd.Create(), EventFd.Create(), EventFd.Create() };
        (int backendEnd, int frontendEnd) = UnixSocket.CreatePair();
        try
        {
            harness.Handshake();
            harness.SetMemTable(ram);
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetBackendReqFd, default, new[] { backendEnd }));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringErr, TestFrontend.U64(0), new[] { fds[2] }));
            harness.StartRing(ring, fds[0], fds[1]);

            // avail->idx jumps by more than the ring size: a ring-level error (DEVICE_NEEDS_RESET).
            ram.WriteU16(ring.Avail + 2, 1000);
            EventFd.Signal(fds[0]);
            Assert.True(EventFd.Wait(fds[2], TestFrontend.TimeoutMilliseconds), "the err fd was not signalled");
            using var channel = new TestFrontend(frontendEnd);
            frontendEnd = -1;
            var (header, payload) = channel.Receive();
            Assert.Equal((uint)BackendRequest.ConfigChangeMsg, header.Request);
            Assert.Equal(VhostUserHeaderFlags.Version1, header.Flags);
            Assert.Empty(payload);
            Assert.Equal(0x40UL, harness.Frontend.Get(FrontendRequest.GetStatus) & 0x40);
        }
        finally
        {
            foreach (int fd in fds)
            {
                FileDescriptors.Close(fd);
            }

            FileDescriptors.Close(backendEnd);
            FileDescriptors.Close(frontendEnd);
        }
    }

    [Fact]
    public void FeaturesRenegotiatedAfterAStopResetTheDevice()
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam();
        var ring = new TestRing(ram, 0, 256, 0x1000);
        int kick = EventFd.Create();
        int call = EventFd.Create();
        try
        {
            ulong offered = harness.Handshake();
            harness.SetMemTable(ram);
            harness.StartRing(ring, kick, call);
            ring.Submit(TestRing.GetValueRequest(0), 2);
            EventFd.Signal(kick);
            Assert.True(ring.WaitUsed(1));

            // While the ring runs, features are fixed.
            ulong withoutIrq = offered & ~GpioFeatures.Irq;
            Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetFeatures, TestFrontend.U64(withoutIrq)));

            harness.Frontend.Send(FrontendRequest.GetVringBase, TestFrontend.State(0, 0));
            Assert.Equal(1u, VhostUserVringState.Read(harness.Frontend.Receive().Payload).Num);
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetFeatures, TestFrontend.U64(withoutIrq)));
            Assert.Equal(withoutIrq & ~(1UL << 30), harness.Device.DriverFeatures);
        }
        finally
        {
            FileDescriptors.Close(kick);
            FileDescriptors.Close(call);
        }
    }
}
