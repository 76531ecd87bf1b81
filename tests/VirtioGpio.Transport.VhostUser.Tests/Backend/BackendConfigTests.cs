// SPDX-License-Identifier: MIT
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

/// <summary>GET_CONFIG / SET_CONFIG (VHOST-USER.md §7; VU4, VU5; PEERS.md VDG-5).</summary>
public sealed class BackendConfigTests
{
    private static byte[] ConfigPayload(uint offset, uint size, uint flags, byte[]? data = null)
    {
        byte[] payload = new byte[VhostUserConfigHeader.EncodedSize + (int)size];
        new VhostUserConfigHeader(offset, size, flags).Write(payload);
        data?.CopyTo(payload, VhostUserConfigHeader.EncodedSize);
        return payload;
    }

    [Theory]
    [Trait("Spec", "VU4")]
    [InlineData(0u, 8u, true)]
    [InlineData(4u, 4u, true)]
    [InlineData(7u, 1u, true)]
    [InlineData(8u, 1u, false)]
    [InlineData(0u, 9u, false)]
    [InlineData(0xFFFFFFFFu, 2u, false)]
    [InlineData(0u, 0u, false)]
    public void GetConfigReturnsExactBytesOrAZeroLengthReply(uint offset, uint size, bool valid)
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate();
        harness.Frontend.Send(FrontendRequest.GetConfig, ConfigPayload(offset, size, 0), needReply: true);
        var (header, payload) = harness.Frontend.Receive();
        Assert.Equal((uint)FrontendRequest.GetConfig, header.Request);
        Assert.Equal(VhostUserHeaderFlags.Version1 | VhostUserHeaderFlags.Reply, header.Flags);
        if (!valid)
        {
            Assert.Empty(payload);
            return;
        }

        Assert.Equal(12 + (int)size, payload.Length);
        Assert.Equal(new VhostUserConfigHeader(offset, size, 0), VhostUserConfigHeader.Read(payload));
        byte[] expected = new byte[size];
        harness.Device.ReadConfig(offset, expected);
        Assert.Equal(expected, payload.AsSpan(12).ToArray());
        if (offset == 0 && size == 8)
        {
            Assert.Equal(8, payload[12]); // ngpio = 8 (le16)
        }

        // Still one reply per request: the next reply is GET_FEATURES'.
        Assert.Equal(harness.Device.DeviceFeatures | (1UL << 30), harness.Frontend.Get(FrontendRequest.GetFeatures));
    }

    [Fact]
    [Trait("Spec", "VU4")]
    public void GetConfigEchoesFlags()
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate();
        harness.Frontend.Send(FrontendRequest.GetConfig, ConfigPayload(2, 2, 1));
        var (_, payload) = harness.Frontend.Receive();
        Assert.Equal(new VhostUserConfigHeader(2, 2, 1), VhostUserConfigHeader.Read(payload));
    }

    [Fact]
    [Trait("Spec", "VU5")]
    public void SetConfigGuestWriteIsRejectedAndChangesNothing()
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate();
        byte[] before = new byte[8];
        harness.Device.ReadConfig(0, before);
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetConfig, ConfigPayload(0, 2, 0, new byte[] { 0x40, 0 })));
        byte[] after = new byte[8];
        harness.Device.ReadConfig(0, after);
        Assert.Equal(before, after);

        // Migration writes are accepted only when identical to the current config.
        Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetConfig, ConfigPayload(0, 8, 1, before)));
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetConfig, ConfigPayload(0, 2, 1, new byte[] { 0x40, 0 })));
        Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetConfig, ConfigPayload(6, 4, 1, new byte[4])));
    }

    [Fact]
    public void GetConfigWithoutConfigFeatureClosesTheConnection()
    {
        using var harness = new BackendHarness();
        harness.Frontend.Negotiate(VhostUserProtocolFeatures.ReplyAck | VhostUserProtocolFeatures.Mq);
        harness.Frontend.Send(FrontendRequest.GetConfig, ConfigPayload(0, 8, 0), needReply: true);
        Assert.True(harness.Frontend.WaitClosed());
    }
}
