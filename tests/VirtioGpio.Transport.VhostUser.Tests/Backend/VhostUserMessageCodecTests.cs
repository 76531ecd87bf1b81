// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

public sealed class VhostUserMessageCodecTests
{
    [Theory]
    [Trait("Spec", "VU1")]
    [InlineData(0x1u, "None")]
    [InlineData(0x9u, "None")]
    [InlineData(0x0u, "BadVersion")]
    [InlineData(0x2u, "BadVersion")]
    [InlineData(0x3u, "BadVersion")]
    [InlineData(0x5u, "ReservedFlags")]
    [InlineData(0x11u, "ReservedFlags")]
    [InlineData(0x80000001u, "ReservedFlags")]
    public void HeaderFlagsAreValidated(uint flags, string expected)
        => Assert.Equal(expected, VhostUserMessageCodec.ValidateHeader(new VhostUserMessageHeader(1, (VhostUserHeaderFlags)flags, 0)).ToString());

    [Theory]
    [Trait("Spec", "VU1")]
    [InlineData(4096u, "None")]
    [InlineData(4097u, "PayloadTooLarge")]
    [InlineData(uint.MaxValue, "PayloadTooLarge")]
    public void PayloadSizeIsCappedAt4KiB(uint size, string expected)
        => Assert.Equal(expected, VhostUserMessageCodec.ValidateHeader(new VhostUserMessageHeader(1, VhostUserHeaderFlags.Version1, size)).ToString());

    [Theory]
    [Trait("Spec", "VU1")]
    [InlineData(FrontendRequest.GetFeatures, 0, true)]
    [InlineData(FrontendRequest.GetFeatures, 8, false)]
    [InlineData(FrontendRequest.SetFeatures, 8, true)]
    [InlineData(FrontendRequest.SetFeatures, 4, false)]
    [InlineData(FrontendRequest.SetVringNum, 8, true)]
    [InlineData(FrontendRequest.SetVringNum, 16, false)]
    [InlineData(FrontendRequest.SetVringAddr, 40, true)]
    [InlineData(FrontendRequest.SetVringAddr, 32, false)]
    [InlineData(FrontendRequest.AddMemReg, 40, true)]
    [InlineData(FrontendRequest.RemMemReg, 32, false)]
    [InlineData(FrontendRequest.GetInflightFd, 24, true)]
    [InlineData(FrontendRequest.GetInflightFd, 20, false)]
    [InlineData(FrontendRequest.SetStatus, 8, true)]
    [InlineData(FrontendRequest.GetStatus, 1, false)]
    public void FixedPayloadSizesMustMatch(FrontendRequest request, int size, bool valid)
        => Assert.Equal(valid ? VhostUserSyntaxError.None : VhostUserSyntaxError.PayloadSizeMismatch, VhostUserMessageCodec.ValidatePayload(request, new byte[size]));

    [Theory]
    [Trait("Spec", "VU1")]
    [InlineData(1u, 40, true)]
    [InlineData(2u, 72, true)]
    [InlineData(8u, 264, true)]
    [InlineData(0u, 8, true)] // syntactically fine; the handler rejects 0 regions
    [InlineData(1u, 72, false)]
    [InlineData(2u, 40, false)]
    [InlineData(9u, 296, false)]
    public void MemTableSizeFollowsRegionCount(uint regions, int size, bool valid)
    {
        byte[] payload = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, regions);
        Assert.Equal(valid ? VhostUserSyntaxError.None : VhostUserSyntaxError.PayloadSizeMismatch, VhostUserMessageCodec.ValidatePayload(FrontendRequest.SetMemTable, payload));
    }

    [Theory]
    [Trait("Spec", "VU1")]
    [InlineData(8u, 20, true)]
    [InlineData(8u, 21, false)]
    [InlineData(0u, 12, true)]
    [InlineData(0xFFFFFFFFu, 20, false)]
    public void ConfigSizeFollowsItsSizeField(uint configSize, int payloadSize, bool valid)
    {
        byte[] payload = new byte[payloadSize];
        new VhostUserConfigHeader(0, configSize, 0).Write(payload);
        Assert.Equal(valid ? VhostUserSyntaxError.None : VhostUserSyntaxError.PayloadSizeMismatch, VhostUserMessageCodec.ValidatePayload(FrontendRequest.GetConfig, payload));
    }

    [Theory]
    [Trait("Spec", "VU13")]
    [InlineData(FrontendRequest.GetFeatures, 0ul, 0, 0)]
    [InlineData(FrontendRequest.SetVringCall, 0ul, 1, 1)]
    [InlineData(FrontendRequest.SetVringCall, 0x100ul, 0, 0)]
    [InlineData(FrontendRequest.SetVringKick, 0x101ul, 0, 0)]
    [InlineData(FrontendRequest.SetInflightFd, 0ul, 1, 1)]
    [InlineData(FrontendRequest.GetInflightFd, 0ul, 0, 0)]
    [InlineData(FrontendRequest.AddMemReg, 0ul, 1, 1)]
    [InlineData(FrontendRequest.RemMemReg, 0ul, 0, 1)]
    public void AllowedFdCountsFollowTheRequestTable(FrontendRequest request, ulong u64, int min, int max)
    {
        byte[] payload = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, u64);
        VhostUserMessageCodec.GetAllowedFdCount(request, payload, out int minimum, out int maximum);
        Assert.Equal((min, max), (minimum, maximum));
    }

    [Fact]
    public void ProtocolFeatureMasksAreShiftedBitsNotBitNumbers()
    {
        // LVU-3: masks are 1 << n, never n.
        Assert.Equal(1UL << 3, (ulong)VhostUserProtocolFeatures.ReplyAck);
        Assert.Equal(1UL << 9, (ulong)VhostUserProtocolFeatures.Config);
        Assert.Equal(1UL << 16, (ulong)VhostUserProtocolFeatures.Status);
        Assert.Equal(0x1B229UL, (ulong)VhostUserProtocolFeatures.Supported);
        Assert.Equal(0UL, (ulong)VhostUserProtocolFeatures.Supported & ~((1UL << 20) - 1)); // never bits >= 20
    }

    [Fact]
    public void WireStructsRoundTrip()
    {
        byte[] buffer = new byte[40];
        var address = new VhostUserVringAddress(1, 0, 0x1000, 0x3000, 0x2000, 0x4000);
        address.Write(buffer);
        Assert.Equal(0x1000UL, BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(8)));
        Assert.Equal(0x3000UL, BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(16))); // used before avail on the wire
        Assert.Equal(address, VhostUserVringAddress.Read(buffer));

        var inflight = new VhostUserInflightInfo(4096, 0, 2, 256);
        inflight.Write(buffer);
        Assert.Equal(inflight, VhostUserInflightInfo.Read(buffer));
        Assert.Equal(256, BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(18)));
    }
}
