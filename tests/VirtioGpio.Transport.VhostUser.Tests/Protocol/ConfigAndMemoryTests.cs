// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Testing.VhostUser;

namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>VHOST-USER.md §13 VU4, VU5, VU11, VU12 over a whole server.</summary>
[Collection(ProtocolCollection.Name)]
public sealed class ConfigAndMemoryTests
{
    [Theory]
    [InlineData(0u, 8u, "0800000038000000")]
    [InlineData(4u, 4u, "38000000")]
    [InlineData(7u, 1u, "00")]
    [InlineData(0u, 1u, "08")]
    [InlineData(8u, 1u, "")]
    [InlineData(0u, 9u, "")]
    [InlineData(0xFFFFFFFFu, 2u, "")]
    [InlineData(0u, 0u, "")]
    [InlineData(0u, 256u, "")]
    [Trait("Spec", "VU4")]
    public async Task GetConfigAnswersExactBytesOrAZeroLengthReply(uint offset, uint size, string expectedHex)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.Connect(new VhostUserFrontendClientOptions { RecordTranscript = true });
        client.Negotiate();
        byte[] data = client.GetConfig(offset, size);
        Assert.Equal(Convert.FromHexString(expectedHex), data);
        VhostUserMessage reply = client.Transcript.Last();
        Assert.True(reply.IsReply);
        Assert.Equal(expectedHex.Length == 0 ? 0u : 12 + size, reply.DeclaredSize); // "zero length of payload to indicate an error" (§7)
        Assert.NotEqual(0UL, client.GetFeatures());
    }

    [Fact]
    [Trait("Spec", "VU5")]
    public async Task SetConfigFromTheGuestIsRejectedAndChangesNothing()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.Connect();
        client.Negotiate();
        var error = Assert.Throws<VhostUserProtocolException>(() => client.SetConfig(0, new byte[] { 0x20, 0x00 }, flags: 0));
        Assert.NotEqual(0UL, error.AckValue!.Value);
        Assert.Equal(ProtocolAssert.Hex("08 00 00 00 38 00 00 00"), client.GetConfig(0, 8));
    }

    [Fact]
    [Trait("Spec", "VU11")]
    public async Task OverlappingRegionsAreRejected()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.Connect(new VhostUserFrontendClientOptions { MemoryRegions = TwoRegions() });
        client.Negotiate();
        VhostUserMemoryRegionDescriptor a = client.Memory.Regions[0];
        VhostUserMemoryRegionDescriptor b = client.Memory.Regions[1].With(guestAddress: new GuestAddress(a.GuestAddress.Value + 0x1000));
        var error = Assert.Throws<VhostUserProtocolException>(() => client.SetMemTable(new[] { a, b }, requestAck: true));
        Assert.NotNull(error.AckValue);
        Assert.NotEqual(0UL, client.GetFeatures());
    }

    [Fact]
    [Trait("Spec", "VU11")]
    public async Task RegionLargerThanItsFileIsRejected()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.Connect(new VhostUserFrontendClientOptions { MemorySize = 1 << 20 });
        client.Negotiate();
        VhostUserMemoryRegionDescriptor region = client.Memory.Regions[0];
        Assert.Throws<VhostUserProtocolException>(() => client.SetMemTable(new[] { region.With(size: 2UL << 20) }, requestAck: true));
        Assert.Throws<VhostUserProtocolException>(() => client.SetMemTable(new[] { region.With(mmapOffset: 0x1000) }, requestAck: true));
        Assert.NotEqual(0UL, client.GetFeatures());
    }

    [Theory]
    [InlineData("size0")]
    [InlineData("gpa-overflow")]
    [InlineData("uaddr-overflow")]
    [InlineData("offset-overflow")]
    [Trait("Spec", "VU11")]
    public async Task RegionWithZeroSizeOrOverflowIsRejected(string kind)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.Connect(new VhostUserFrontendClientOptions { MemorySize = 1 << 20 });
        client.Negotiate();
        VhostUserMemoryRegionDescriptor region = client.Memory.Regions[0];
        VhostUserMemoryRegionDescriptor bad = kind switch
        {
            "size0" => region.With(size: 0),
            "gpa-overflow" => region.With(guestAddress: new GuestAddress(ulong.MaxValue - 0x1000)),
            "uaddr-overflow" => region.With(userAddress: ulong.MaxValue - 0x1000),
            _ => region.With(mmapOffset: ulong.MaxValue - 0x1000),
        };
        Assert.Throws<VhostUserProtocolException>(() => client.SetMemTable(new[] { bad }, requestAck: true));
        Assert.NotEqual(0UL, client.GetFeatures());
    }

    [Fact]
    [Trait("Spec", "VU11")]
    public async Task FdCountDifferentFromRegionCountIsRejected()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.Connect(new VhostUserFrontendClientOptions { MemoryRegions = TwoRegions() });
        client.Negotiate();
        byte[] payload = VhostUserFrontendClient.EncodeMemTable(client.Memory.Regions);
        ulong ack = client.RequestAck(FrontendRequest.SetMemTable, payload, new[] { client.Memory.Regions[0].Fd });
        Assert.NotEqual(0UL, ack);
        using var probe = new FdProbe();
        ack = client.RequestAck(FrontendRequest.SetMemTable, payload, new[] { client.Memory.Regions[0].Fd, client.Memory.Regions[1].Fd, probe.Fd });
        Assert.NotEqual(0UL, ack);
        Assert.True(probe.WaitUntilPeerClosed(ProtocolAssert.Wait));
        ack = client.RequestAck(FrontendRequest.SetMemTable, payload, new[] { client.Memory.Regions[0].Fd, client.Memory.Regions[1].Fd });
        Assert.Equal(0UL, ack);
    }

    [Fact]
    [Trait("Spec", "VU11")]
    public async Task SeveralRegionsServeRingsAndBuffersInTheSecondRegion()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        var options = new VhostUserFrontendClientOptions
        {
            MemoryRegions = TwoRegions(),
            AllocatorArea = new GuestRange(0x1000_0000, 1 << 20), // everything in region 2
        };
        using VhostUserFrontendClient client = server.Connect(options);
        client.Negotiate();
        client.SetMemTable();
        VhostUserFrontendQueue queue = client.SetUpQueue(0, 64);
        Assert.True(queue.Layout.DescriptorTable.Value >= 0x1000_0000);
        DriverCompletion done = queue.SendGpioRequest(1, 0, 0, 57);
        Assert.Equal(57u, done.Length);
        Assert.Equal(0, done.Written.Span[0]);
    }

    [Theory]
    [InlineData("outside")]
    [InlineData("straddle")]
    [Trait("Spec", "VU12")]
    public async Task RingOutsideOrAcrossRegionsIsNotStarted(string kind)
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.Connect(new VhostUserFrontendClientOptions { MemoryRegions = TwoRegions() });
        client.Negotiate();
        client.SetMemTable();
        VhostUserFrontendQueue queue = client.CreateQueue(0, 64);
        VhostUserMemoryRegionDescriptor first = client.Memory.Regions[0];
        ulong highestEnd = client.Memory.Regions.Max(r => r.UserAddress + r.Size);
        ulong desc = kind == "outside"
            ? highestEnd + 0x100000                   // above every region's user range
            : first.UserAddress + first.Size - 0x200; // 64 descriptors = 1 KiB: runs past the end of region 1
        client.SetVringNum(0, 64);
        client.SetVringBase(0, 0);
        bool accepted;
        try
        {
            client.SetVringAddr(0, desc, client.Memory.GetUserAddress(queue.Layout.UsedRing), client.Memory.GetUserAddress(queue.Layout.AvailRing), queue.Layout.UsedRing.Value, 0, requestAck: true);
            accepted = true;
        }
        catch (VhostUserProtocolException e) when (e.AckValue is not null)
        {
            accepted = false;
        }

        if (accepted)
        {
            // Accepted for later validation: the ring must then refuse to start (nothing completes, no call).
            client.SetVringKick(0, queue.KickFd);
            client.SetVringCall(0, queue.CallFd);
            try
            {
                client.SetVringEnable(0, true);
            }
            catch (VhostUserProtocolException e) when (e.AckValue is not null)
            {
            }

            queue.AddGpioRequest(4, 0, 0);
            queue.PublishAndKick();
            Thread.Sleep(300);
            Assert.Equal(0, queue.Driver.ReadUsedIndex());
            Assert.False(queue.WaitForCall(TimeSpan.Zero));
        }

        Assert.NotEqual(0UL, client.GetFeatures());
        Assert.False(server.RunTask.IsCompleted);
    }

    [Fact]
    [Trait("Spec", "VU11")]
    public async Task AddAndRemoveMemoryRegionsWithMemSlots()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        using VhostUserFrontendClient client = server.Connect(new VhostUserFrontendClientOptions { MemoryRegions = TwoRegions(), AllocatorArea = new GuestRange(0x1000_0000, 1 << 20) });
        client.Negotiate();
        Assert.True(client.GetMaxMemSlots() >= 8);
        client.AddMemoryRegion(client.Memory.Regions[1], requestAck: true);
        VhostUserFrontendQueue queue = client.SetUpQueue(0, 64);
        Assert.Equal(0, queue.SendGpioRequest(4, 1, 0).Written.Span[0]);

        // ADD_MEM_REG needs exactly one fd.
        Assert.NotEqual(0UL, client.RequestAck(FrontendRequest.AddMemReg, VhostUserFrontendClient.EncodeSingleRegion(client.Memory.Regions[0])));
        Assert.NotEqual(0UL, client.GetFeatures());
    }

    internal static VhostUserMemoryRegionLayout[] TwoRegions() => new[]
    {
        new VhostUserMemoryRegionLayout(new GuestAddress(0), 1 << 20),
        new VhostUserMemoryRegionLayout(new GuestAddress(0x1000_0000), 2 << 20),
    };
}
