// SPDX-License-Identifier: MIT
using VirtioGpio.Device;
using VirtioGpio.Transport.VhostUser.Interop;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

/// <summary>Framing, syntax and REPLY_ACK behaviour over a real socket (VHOST-USER.md §2, §3, §5; VU1–VU3, VU15).</summary>
public sealed class BackendMessageTests
{
    [Fact]
    public void GetFeaturesOffersDeviceFeaturesPlusProtocolFeaturesBit()
    {
        using var harness = new BackendHarness();
        ulong features = harness.Frontend.Get(FrontendRequest.GetFeatures);
        Assert.Equal(harness.Device.DeviceFeatures | (1UL << 30), features);
        Assert.Equal((ulong)VhostUserProtocolFeatures.Supported, harness.Frontend.Get(FrontendRequest.GetProtocolFeatures));
    }

    [Theory]
    [Trait("Spec", "VU1")]
    [InlineData(0x0u)]
    [InlineData(0x2u)]
    [InlineData(0x5u)]
    [InlineData(0x21u)]
    public void BadHeaderFlagsCloseTheConnection(uint flags)
    {
        using var harness = new BackendHarness();
        harness.Frontend.SendRaw((uint)FrontendRequest.GetFeatures, (VhostUserHeaderFlags)flags, default);
        Assert.True(harness.Frontend.WaitClosed());
        Assert.True(harness.WaitForExit());
    }

    [Fact]
    [Trait("Spec", "VU1")]
    public void OversizedMessageClosesBeforeThePayloadIsRead()
    {
        using var harness = new BackendHarness();

        // Only the header is sent: a back-end that waited for the 64 KiB payload would stay open.
        harness.Frontend.SendRaw((uint)FrontendRequest.SetConfig, VhostUserHeaderFlags.Version1, default, sizeOverride: 0x10000);
        Assert.True(harness.Frontend.WaitClosed());
    }

    [Theory]
    [Trait("Spec", "VU1")]
    [InlineData(FrontendRequest.GetFeatures, 8)]
    [InlineData(FrontendRequest.SetFeatures, 4)]
    [InlineData(FrontendRequest.SetVringNum, 12)]
    [InlineData(FrontendRequest.SetVringAddr, 8)]
    [InlineData(FrontendRequest.GetInflightFd, 16)]
    public void PayloadSizeNotMatchingTheTypeClosesTheConnection(FrontendRequest request, int size)
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate();
        harness.Frontend.Send(request, new byte[size], needReply: true);
        Assert.True(harness.Frontend.WaitClosed());
    }

    [Theory]
    [Trait("Spec", "VU2")]
    [InlineData(99u)]
    [InlineData((uint)FrontendRequest.SendRarp)]
    [InlineData((uint)FrontendRequest.SetVringEndian)]
    [InlineData((uint)FrontendRequest.GetShmemConfig)]
    public void UnknownOrUnsupportedRequestIsNackedWithReplyAck(uint request)
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate();
        byte[] payload = request == 99 ? new byte[3] : new byte[8];
        harness.Frontend.SendRaw(request, VhostUserHeaderFlags.Version1 | VhostUserHeaderFlags.NeedReply, payload);
        var (header, reply) = harness.Frontend.Receive();
        Assert.Equal(request, header.Request);
        Assert.NotEqual(0UL, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(reply));

        // The connection stays usable.
        Assert.Equal(harness.Device.DeviceFeatures | (1UL << 30), harness.Frontend.Get(FrontendRequest.GetFeatures));
    }

    [Fact]
    [Trait("Spec", "VU2")]
    public void UnknownRequestWithoutReplyAckClosesTheConnection()
    {
        using var harness = new BackendHarness();
        harness.Frontend.SendRaw(99, VhostUserHeaderFlags.Version1 | VhostUserHeaderFlags.NeedReply, new byte[8]);
        Assert.True(harness.Frontend.WaitClosed());
    }

    [Fact]
    [Trait("Spec", "VU3")]
    public void EveryNeedReplyGetsExactlyOneReply()
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate();

        Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetOwner));

        // GET_* with NEED_REPLY: only the normal reply, no extra ack after it.
        harness.Frontend.Send(FrontendRequest.GetFeatures, needReply: true);
        Assert.Equal(harness.Device.DeviceFeatures | (1UL << 30), harness.Frontend.ReceiveU64(FrontendRequest.GetFeatures));
        harness.Frontend.Send(FrontendRequest.GetQueueNum, needReply: true);
        Assert.Equal((ulong)harness.Device.QueueCount, harness.Frontend.ReceiveU64(FrontendRequest.GetQueueNum));

        // A message without NEED_REPLY gets nothing.
        harness.Frontend.Send(FrontendRequest.SetOwner);
        Assert.True(harness.Frontend.IsSilent(100));
        Assert.Equal((ulong)VhostUserProtocolFeatures.Supported, harness.Frontend.Get(FrontendRequest.GetProtocolFeatures));
    }

    [Fact]
    [Trait("Spec", "VU3")]
    public void NeedReplyIsIgnoredWithoutReplyAck()
    {
        using var harness = new BackendHarness();
        harness.Frontend.Send(FrontendRequest.SetProtocolFeatures, TestFrontend.U64((ulong)VhostUserProtocolFeatures.Config));
        harness.Frontend.Send(FrontendRequest.SetOwner, needReply: true);

        // The first reply is the one of GET_FEATURES: no ack was sent for SET_OWNER.
        Assert.Equal(harness.Device.DeviceFeatures | (1UL << 30), harness.Frontend.Get(FrontendRequest.GetFeatures));
    }

    [Fact]
    [Trait("Spec", "VU15")]
    public void SetFeaturesWithUnofferedBitsIsRejected()
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate();
        ulong offered = harness.Frontend.Get(FrontendRequest.GetFeatures);
        ulong unoffered = ~offered & (1UL << 34); // RING_PACKED is never offered
        Assert.NotEqual(0UL, unoffered);
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetFeatures, TestFrontend.U64(offered | unoffered)));
        Assert.Equal(0UL, harness.Device.DriverFeatures & unoffered);
        Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetFeatures, TestFrontend.U64(offered)));
        Assert.Equal(offered & ~(1UL << 30), harness.Device.DriverFeatures);
    }

    [Fact]
    [Trait("Spec", "VU15")]
    public void SetProtocolFeaturesWithUnofferedBitsIsRejected()
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate();
        ulong withLogShmfd = (ulong)(VhostUserProtocolFeatures.Supported | VhostUserProtocolFeatures.LogShmfd);
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetProtocolFeatures, TestFrontend.U64(withLogShmfd)));
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetProtocolFeatures, TestFrontend.U64(1UL << 20)));
    }

    [Fact]
    [Trait("Spec", "VU15")]
    public void InbandNotificationsWithoutBackendReqAndReplyAckClosesTheConnection()
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate();
        harness.Frontend.Send(FrontendRequest.SetProtocolFeatures, TestFrontend.U64((ulong)(VhostUserProtocolFeatures.InbandNotifications | VhostUserProtocolFeatures.ReplyAck)), needReply: true);
        Assert.True(harness.Frontend.WaitClosed());
    }

    [Fact]
    public void SetStatusAndGetStatusTrackTheStatusByte()
    {
        using var harness = new BackendHarness();
        ulong offered = harness.Handshake();
        byte status = (byte)(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.FeaturesOk);
        Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetStatus, TestFrontend.U64(status)));
        Assert.Equal((ulong)status, harness.Frontend.Get(FrontendRequest.GetStatus));
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetStatus, TestFrontend.U64(0x100)));
        Assert.Equal(offered & ~(1UL << 30), harness.Device.DriverFeatures);
    }

    [Fact]
    public void GetQueueNumAndMaxMemSlotsNeedTheirFeatures()
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate(VhostUserProtocolFeatures.ReplyAck | VhostUserProtocolFeatures.Config);

        // Feature-gated requests are refused when the feature was not negotiated; GET_* cannot be
        // nacked (they have their own reply), so the connection closes.
        harness.Frontend.Send(FrontendRequest.GetMaxMemSlots);
        Assert.True(harness.Frontend.WaitClosed());
    }

    [Fact]
    public void MaxMemSlotsAndQueueNumAreReported()
    {
        var options = new VhostUserBackendOptions { MaxMemorySlots = 64 };
        using var harness = new BackendHarness(options: options);
        harness.Frontend.Negotiate();
        Assert.Equal(64UL, harness.Frontend.Get(FrontendRequest.GetMaxMemSlots));
        Assert.Equal(2UL, harness.Frontend.Get(FrontendRequest.GetQueueNum));
    }
}
