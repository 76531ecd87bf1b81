// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Testing.VhostUser;

namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>
/// VHOST-USER.md §13 VU1–VU3, VU13: malformed messages against a whole server. Each gets an error
/// ack or a disconnect, never a success, and the server goes on serving the next connection.
/// </summary>
[Collection(ProtocolCollection.Name)]
public sealed class MalformedMessageTests
{
    /// <summary>Payload sizes of the requests whose payload type is fixed (VHOST-USER.md §2–§3).</summary>
    public static TheoryData<uint, int> FixedSizeRequests() => new()
    {
        { 1, 0 }, { 2, 8 }, { 3, 0 }, { 4, 0 }, { 6, 16 }, { 7, 0 }, { 8, 8 }, { 9, 40 }, { 10, 8 }, { 11, 8 },
        { 12, 8 }, { 13, 8 }, { 14, 8 }, { 15, 0 }, { 16, 8 }, { 17, 0 }, { 18, 8 }, { 21, 0 }, { 31, 24 },
        { 32, 24 }, { 34, 0 }, { 35, 8 }, { 36, 0 }, { 37, 40 }, { 38, 40 }, { 39, 8 }, { 40, 0 },
    };

    [Theory]
    [MemberData(nameof(FixedSizeRequests))]
    [Trait("Spec", "VU1")]
    public async Task OversizedPayloadClosesTheConnection(uint request, int size)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            client.SendRaw(request, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, new byte[size + 4]);
            ProtocolAssert.Disconnects(client);
        }

        server.AssertServesNextConnection();
    }

    [Theory]
    [MemberData(nameof(FixedSizeRequests))]
    [Trait("Spec", "VU1")]
    public async Task ShortPayloadClosesTheConnection(uint request, int size)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            // Size 0 requests get a payload they must not have; the others one byte short.
            byte[] payload = size == 0 ? new byte[8] : new byte[size - 1];
            client.SendRaw(request, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, payload);
            ProtocolAssert.Disconnects(client);
        }

        server.AssertServesNextConnection();
    }

    [Theory]
    [InlineData(5u)]  // SET_MEM_TABLE: 8 + 32·n
    [InlineData(24u)] // GET_CONFIG: 12 + size
    [InlineData(25u)] // SET_CONFIG
    [Trait("Spec", "VU1")]
    public async Task VariablePayloadThatDisagreesWithItsCountClosesTheConnection(uint request)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            byte[] payload = new byte[8 + 32 + 5];
            BinaryPrimitives.WriteUInt32LittleEndian(payload, 1);                  // nregions 1 but 45 bytes
            BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), 8);        // config size 8 but 33 data bytes
            client.SendRaw(request, VhostUserFrontendClient.FlagVersion1, payload);
            ProtocolAssert.Disconnects(client);
        }

        server.AssertServesNextConnection();
    }

    [Fact]
    [Trait("Spec", "VU1")]
    public async Task SizeAboveTheCapClosesBeforeThePayloadIsRead()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            // Only the header is sent: a back-end that waited for 64 KiB of payload would hang here.
            client.SendRaw(24, VhostUserFrontendClient.FlagVersion1, 0x10000, ReadOnlySpan<byte>.Empty);
            ProtocolAssert.Disconnects(client);
        }

        server.AssertServesNextConnection();
    }

    [Fact]
    [Trait("Spec", "VU1")]
    public async Task MessageCutShortByTheFrontEndIsDroppedAndTheServerGoesOn()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            client.SendRaw(9, VhostUserFrontendClient.FlagVersion1, 40, new byte[12]); // SET_VRING_ADDR, 12 of 40 bytes
            client.SendRawBytes(new byte[] { 1, 0, 0 });                               // and a partial header
        }

        server.AssertServesNextConnection();
    }

    [Theory]
    [InlineData(0x0u)]        // version 0
    [InlineData(0x2u)]        // version 2
    [InlineData(0x3u)]        // version 3
    [InlineData(0x5u)]        // REPLY on a request
    [InlineData(0x11u)]       // reserved bit 4
    [InlineData(0x80000001u)] // reserved bit 31
    [Trait("Spec", "VU1")]
    public async Task BadHeaderFlagsCloseTheConnection(uint flags)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            client.SendRaw(1, flags, ReadOnlySpan<byte>.Empty); // GET_FEATURES
            ProtocolAssert.Disconnects(client);
        }

        server.AssertServesNextConnection();
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(19u)]   // SEND_RARP (net)
    [InlineData(20u)]   // NET_SET_MTU (net)
    [InlineData(26u)]   // CREATE_CRYPTO_SESSION
    [InlineData(44u)]   // GET_SHMEM_CONFIG
    [InlineData(45u)]
    [InlineData(1000u)]
    [Trait("Spec", "VU2")]
    public async Task UnknownOrUnsupportedRequestIsRejectedWithAnAck(uint request)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            byte[] payload = request is 19 or 20 ? new byte[8] : Array.Empty<byte>();
            client.SendRaw(request, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, payload);
            ProtocolAssert.RejectedWithAck(client, request);
        }

        server.AssertServesNextConnection();
    }

    [Fact]
    [Trait("Spec", "VU2")]
    public async Task RejectedRequestWithAReplyOfItsOwnGetsNoSuccess()
    {
        // GET_SHARED_OBJECT has a reply type of its own (an fd), so NEED_REPLY changes nothing (§5.4): an error ack or a disconnect.
        await using ProtocolServer server = ProtocolServer.Start();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            client.SendRaw((uint)FrontendRequest.GetSharedObject, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, new byte[16]);
            _ = ProtocolAssert.Rejected(client, (uint)FrontendRequest.GetSharedObject);
        }

        server.AssertServesNextConnection();
    }

    [Fact]
    [Trait("Spec", "VU2")]
    public async Task UnknownRequestWithoutNeedReplyClosesTheConnectionAndItsFdsAreClosed()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using var probe = new FdProbe();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            client.SendRaw(1000, VhostUserFrontendClient.FlagVersion1, ReadOnlySpan<byte>.Empty, new[] { probe.Fd });
            ProtocolAssert.Disconnects(client);
        }

        Assert.True(probe.WaitUntilPeerClosed(ProtocolAssert.Wait), "the fd attached to the unknown request was not closed");
        server.AssertServesNextConnection();
    }

    [Theory]
    [InlineData(2u, 8)]  // SET_FEATURES
    [InlineData(3u, 0)]  // SET_OWNER
    [InlineData(10u, 8)] // SET_VRING_BASE
    [InlineData(18u, 8)] // SET_VRING_ENABLE
    [Trait("Spec", "VU3")]
    public async Task EachNeedReplyGetsExactlyOneAck(uint request, int size)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = NegotiatedClient(server);
        byte[] payload = new byte[size];
        if (request == 2)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(payload, client.AckedFeatures);
        }

        client.SendRaw(request, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, payload);
        using (VhostUserMessage ack = client.ReceiveReply())
        {
            Assert.Equal(request, ack.Request);
            Assert.Equal(0x5u, ack.Flags);
            Assert.Equal(0UL, ack.ReadUInt64());
        }

        ProtocolAssert.NoMessage(client);
    }

    [Theory]
    [InlineData(FrontendRequest.GetFeatures)]
    [InlineData(FrontendRequest.GetProtocolFeatures)]
    [InlineData(FrontendRequest.GetQueueNum)]
    [InlineData(FrontendRequest.GetStatus)]
    [InlineData(FrontendRequest.GetMaxMemSlots)]
    [Trait("Spec", "VU3")]
    public async Task GetRequestWithNeedReplyGetsOnlyItsNormalReply(FrontendRequest request)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = NegotiatedClient(server);
        client.SendRaw((uint)request, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, ReadOnlySpan<byte>.Empty);
        using (VhostUserMessage reply = client.ReceiveReply())
        {
            Assert.Equal((uint)request, reply.Request);
            Assert.Equal(8, reply.Payload.Length);
        }

        ProtocolAssert.NoMessage(client);
    }

    [Fact]
    [Trait("Spec", "VU3")]
    public async Task NeedReplyIsIgnoredWithoutReplyAck()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.Connect();
        client.Negotiate(protocolFeatures: VirtioGpio.Transport.VhostUser.VhostUserProtocolFeatures.Mq | VirtioGpio.Transport.VhostUser.VhostUserProtocolFeatures.Config);
        Assert.False(client.ReplyAckNegotiated);
        client.SendRaw(3, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, ReadOnlySpan<byte>.Empty); // SET_OWNER
        ProtocolAssert.NoMessage(client, 200);
        Assert.NotEqual(0UL, client.GetFeatures());
    }

    // ------------------------------------------------------------ fd counts (VU13)

    [Fact]
    [Trait("Spec", "VU13")]
    public async Task FdsOnGetFeaturesAreClosedAndTheRequestRejected()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using var p1 = new FdProbe();
        using var p2 = new FdProbe();
        using var p3 = new FdProbe();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            client.SendRaw(1, VhostUserFrontendClient.FlagVersion1, ReadOnlySpan<byte>.Empty, new[] { p1.Fd, p2.Fd, p3.Fd });
            _ = ProtocolAssert.Rejected(client, 1);
        }

        Assert.True(p1.WaitUntilPeerClosed(ProtocolAssert.Wait));
        Assert.True(p2.WaitUntilPeerClosed(ProtocolAssert.Wait));
        Assert.True(p3.WaitUntilPeerClosed(ProtocolAssert.Wait));
        server.AssertServesNextConnection();
    }

    [Theory]
    [InlineData(FrontendRequest.SetVringCall)]
    [InlineData(FrontendRequest.SetVringKick)]
    [InlineData(FrontendRequest.SetVringErr)]
    [Trait("Spec", "VU13")]
    public async Task TwoFdsOnAVringFdRequestAreBothClosedAndTheRequestRejected(FrontendRequest request)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using var p1 = new FdProbe();
        using var p2 = new FdProbe();
        using VhostUserFrontendClient client = NegotiatedClient(server);
        client.SendRaw((uint)request, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, new byte[8], new[] { p1.Fd, p2.Fd });
        ProtocolAssert.RejectedWithAck(client, (uint)request);
        Assert.True(p1.WaitUntilPeerClosed(ProtocolAssert.Wait));
        Assert.True(p2.WaitUntilPeerClosed(ProtocolAssert.Wait));
    }

    [Theory]
    [InlineData(FrontendRequest.SetVringCall)]
    [InlineData(FrontendRequest.SetVringKick)]
    [Trait("Spec", "VU13")]
    public async Task MissingFdOnAVringFdRequestIsRejected(FrontendRequest request)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = NegotiatedClient(server);
        client.SendRaw((uint)request, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, new byte[8]); // index 0, bit 8 clear, no fd
        ProtocolAssert.RejectedWithAck(client, (uint)request);
    }

    [Fact]
    [Trait("Spec", "VU13")]
    public async Task FdWithNoFdFlagIsClosedAndTheRequestRejected()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using var probe = new FdProbe();
        using VhostUserFrontendClient client = NegotiatedClient(server);
        byte[] payload = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, VhostUserFrontendClient.VringNoFdFlag);
        client.SendRaw((uint)FrontendRequest.SetVringCall, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, payload, new[] { probe.Fd });
        ProtocolAssert.RejectedWithAck(client, (uint)FrontendRequest.SetVringCall);
        Assert.True(probe.WaitUntilPeerClosed(ProtocolAssert.Wait));
    }

    [Fact]
    [Trait("Spec", "VU13")]
    public async Task FdOnRemMemRegIsClosedUnused()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using var probe = new FdProbe();
        using VhostUserFrontendClient client = NegotiatedClient(server);
        client.SetMemTable();
        VhostUserMemoryRegionDescriptor region = client.Memory.Regions[0];
        // REM_MEM_REG "MAY accept" one fd, which "MUST" then be closed unused (§3); the outcome of the removal itself does not matter here.
        client.SendRaw((uint)FrontendRequest.RemMemReg, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, VhostUserFrontendClient.EncodeSingleRegion(region), new[] { probe.Fd });
        using (VhostUserMessage ack = client.ReceiveReply())
        {
            Assert.Equal((uint)FrontendRequest.RemMemReg, ack.Request);
        }

        Assert.True(probe.WaitUntilPeerClosed(ProtocolAssert.Wait));
        Assert.NotEqual(0UL, client.GetFeatures());
    }

    [Theory]
    [InlineData(FrontendRequest.GetInflightFd)]
    [InlineData(FrontendRequest.SetInflightFd)]
    [Trait("Spec", "VU13")]
    public async Task SurplusFdsOnInflightRequestsAreClosed(FrontendRequest request)
    {
        // DPDK CVE-2022-0669: unexpected fds on GET/SET_INFLIGHT_FD were never closed.
        await using ProtocolServer server = ProtocolServer.Start();
        using var p1 = new FdProbe();
        using var p2 = new FdProbe();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            byte[] payload = new byte[24];
            BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(16), 2);
            BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(18), 256);
            client.SendRaw((uint)request, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, payload, new[] { p1.Fd, p2.Fd });
            _ = ProtocolAssert.Rejected(client, (uint)request);
        }

        Assert.True(p1.WaitUntilPeerClosed(ProtocolAssert.Wait));
        Assert.True(p2.WaitUntilPeerClosed(ProtocolAssert.Wait));
        server.AssertServesNextConnection();
    }

    [Fact]
    [Trait("Spec", "VU13")]
    public async Task MoreFdsThanTheCapClosesTheConnectionAndEveryFd()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        var probes = Enumerable.Range(0, 64).Select(_ => new FdProbe()).ToArray();
        try
        {
            using (VhostUserFrontendClient client = NegotiatedClient(server))
            {
                // 64 fds on one GET_FEATURES: above the 32-fd cap, so the kernel truncates (MSG_CTRUNC).
                byte[] header = new byte[12];
                BinaryPrimitives.WriteUInt32LittleEndian(header, 1);
                BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 1);
                Assert.Equal(0, RawSocket.Send(client.SocketFd, header, probes.Select(p => p.Fd).ToArray()));
                ProtocolAssert.Disconnects(client);
            }

            foreach (FdProbe probe in probes)
            {
                Assert.True(probe.WaitUntilPeerClosed(ProtocolAssert.Wait));
            }

            server.AssertServesNextConnection();
        }
        finally
        {
            foreach (FdProbe probe in probes)
            {
                probe.Dispose();
            }
        }
    }

    // ------------------------------------------------------------ bad ring indices

    [Theory]
    [InlineData(FrontendRequest.SetVringNum, 2u)]
    [InlineData(FrontendRequest.SetVringNum, 255u)]
    [InlineData(FrontendRequest.SetVringBase, 2u)]
    [InlineData(FrontendRequest.SetVringEnable, 7u)]
    [InlineData(FrontendRequest.SetVringAddr, 2u)]
    [InlineData(FrontendRequest.SetVringNum, 0xFFFFFFFFu)]
    [Trait("Spec", "VU1")]
    public async Task RingIndexBeyondTheQueueCountIsRejected(FrontendRequest request, uint index)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = NegotiatedClient(server);
        client.SetMemTable();
        byte[] payload = new byte[request == FrontendRequest.SetVringAddr ? 40 : 8];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, index);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), request == FrontendRequest.SetVringNum ? 256u : 1u);
        client.SendRaw((uint)request, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, payload);
        ProtocolAssert.RejectedWithAck(client, (uint)request);
    }

    [Theory]
    [InlineData(FrontendRequest.SetVringKick, 2u)]
    [InlineData(FrontendRequest.SetVringCall, 200u)]
    [InlineData(FrontendRequest.SetVringErr, 3u)]
    [Trait("Spec", "VU13")]
    public async Task VringFdForABadIndexIsRejectedAndClosed(FrontendRequest request, uint index)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using var probe = new FdProbe();
        using VhostUserFrontendClient client = NegotiatedClient(server);
        byte[] payload = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, index);
        client.SendRaw((uint)request, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, payload, new[] { probe.Fd });
        ProtocolAssert.RejectedWithAck(client, (uint)request);
        Assert.True(probe.WaitUntilPeerClosed(ProtocolAssert.Wait));
    }

    [Fact]
    [Trait("Spec", "VU1")]
    public async Task GetVringBaseForABadIndexIsRefused()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            byte[] payload = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(payload, 9);
            client.SendRaw((uint)FrontendRequest.GetVringBase, VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagNeedReply, payload);
            _ = ProtocolAssert.Rejected(client, (uint)FrontendRequest.GetVringBase);
        }

        server.AssertServesNextConnection();
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(3u)]
    [InlineData(65536u)]
    [Trait("Spec", "VU6")]
    public async Task InvalidRingSizeIsRejectedAndTheServerKeepsRunning(uint size)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using (VhostUserFrontendClient client = NegotiatedClient(server))
        {
            Assert.Throws<VhostUserProtocolException>(() => client.SetVringNum(0, size, requestAck: true));
            Assert.NotEqual(0UL, client.GetFeatures());
        }

        server.AssertServesNextConnection();
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(2048)]
    [InlineData(32768)]
    [Trait("Spec", "VU6")]
    public async Task LargeRingSizesAreAccepted(int size)
    {
        await using ProtocolServer server = ProtocolServer.Start(device: ProtocolServer.CreateDevice(queueMaxSize: 32768));
        using VhostUserFrontendClient client = server.Connect(new VhostUserFrontendClientOptions { MemorySize = 4UL << 20 });
        client.Negotiate();
        client.SetMemTable();
        client.SetVringNum(0, (uint)size, requestAck: true);
        if (size <= 1024)
        {
            // A 1024-entry ring (QEMU's virtio-mmio, §12.3) also runs.
            VhostUserFrontendQueue queue = client.CreateQueue(0, size);
            client.StartQueue(queue, 0);
            Assert.Equal(0, queue.SendGpioRequest(4, 0, 0).Written.Span[0]);
        }
    }

    private static VhostUserFrontendClient NegotiatedClient(ProtocolServer server)
    {
        VhostUserFrontendClient client = server.Connect(new VhostUserFrontendClientOptions { MemorySize = 1 << 20 });
        try
        {
            client.Negotiate();
            Assert.True(client.ReplyAckNegotiated);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}
