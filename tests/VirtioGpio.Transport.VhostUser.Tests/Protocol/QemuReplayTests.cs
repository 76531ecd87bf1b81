// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Testing.VhostUser;
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>
/// VHOST-USER.md §13 VU18: the message sequences QEMU 7.2 sent (§12.1, PCI and MMIO), replayed
/// message by message (same requests, flags, payloads, fd counts; only addresses and fds are
/// ours), with every back-end reply compared byte for byte.
/// </summary>
/// <remarks>
/// Replies that differ from the rust-vmm capture by design: GET_FEATURES is 0x170000001 (no legacy
/// NOTIFY_ON_EMPTY, §5.1) and GET_PROTOCOL_FEATURES is 0x1B229 (MQ, REPLY_ACK, BACKEND_REQ,
/// CONFIG, INFLIGHT_SHMFD, RESET_DEVICE, CONFIGURE_MEM_SLOTS, STATUS: §5.2). QEMU 7.2 acked 0x209,
/// which the replay sends as captured.
/// </remarks>
[Collection(ProtocolCollection.Name)]
public sealed class QemuReplayTests
{
    private const ulong OfferedFeatures = 0x1_7000_0001; // F_IRQ, INDIRECT_DESC, EVENT_IDX, PROTOCOL_FEATURES, VERSION_1
    private const ulong OfferedProtocolFeatures = 0x1B229;

    [Fact]
    [Trait("Spec", "VU18")]
    public async Task Qemu72PciSequenceGetsByteExactReplies()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        var options = ReplayOptions(new[] { new VhostUserMemoryRegionLayout(new GuestAddress(0), 0x1000_0000) }, new GuestRange(0x200000, 0x100000));
        using VhostUserFrontendClient client = server.Connect(options);

        // PCI: avail = desc + 0x1000, used = avail + 0x240 (§12.1 step 14), 256 entries.
        var requestLayout = new SplitRingLayout(256, new GuestAddress(0x100000), new GuestAddress(0x101000), new GuestAddress(0x101240));
        Replay(client, requestLayout, expectedRegionCount: 1);
    }

    [Fact]
    [Trait("Spec", "VU18")]
    public async Task Qemu72MmioSequenceGetsByteExactReplies()
    {
        await using ProtocolServer server = ProtocolServer.Start();

        // MMIO: two regions of one memfd, {0, 0xf0000, offset 0} and {0x100000, 0xff00000, offset 0x100000} (§12.1 step 11, §8.3).
        var regions = new[]
        {
            new VhostUserMemoryRegionLayout(new GuestAddress(0), 0xf0000, 0, fileIndex: 0),
            new VhostUserMemoryRegionLayout(new GuestAddress(0x100000), 0xff00000, 0x100000, fileIndex: 0),
        };
        var options = ReplayOptions(regions, new GuestRange(0x3000000, 0x100000));
        using VhostUserFrontendClient client = server.Connect(options);

        // MMIO: 1024 entries, avail = desc + 0x4000, used = avail + 0x1000 (§12.1 steps 12, 14).
        var requestLayout = new SplitRingLayout(1024, new GuestAddress(0x2b00000), new GuestAddress(0x2b04000), new GuestAddress(0x2b05000));
        Replay(client, requestLayout, expectedRegionCount: 2);
    }

    private static VhostUserFrontendClientOptions ReplayOptions(VhostUserMemoryRegionLayout[] regions, GuestRange allocatorArea) => new()
    {
        MemoryRegions = regions,
        AllocatorArea = allocatorArea,
        RequestAcks = false,             // QEMU 7.2 set NEED_REPLY only on SET_MEM_TABLE (§5.4)
        SynchronizeAfterEnable = false,  // and sent the two SET_VRING_ENABLEs back to back (§12.1 step 17)
        RecordTranscript = true,
    };

    private static void Replay(VhostUserFrontendClient client, SplitRingLayout requestLayout, int expectedRegionCount)
    {
        Assert.Equal(expectedRegionCount, client.Memory.Regions.Count);
        VhostUserFrontendQueue requestq = client.CreateQueue(0, requestLayout.QueueSize, requestLayout);
        VhostUserFrontendQueue eventq = client.CreateQueue(1, 256);
        var errFds = new List<int>();
        try
        {
            // Phase A: connect.
            Assert.Equal(OfferedFeatures, client.GetFeatures());                                   // 1
            Assert.Equal(OfferedProtocolFeatures, (ulong)client.GetProtocolFeatures());             // 2
            client.SetProtocolFeatures((VirtioGpio.Transport.VhostUser.VhostUserProtocolFeatures)0x209); // 3
            Assert.Equal(2UL, client.GetQueueNum());                                                // 4
            client.SetOwner();                                                                      // 5
            Assert.Equal(OfferedFeatures, client.GetFeatures());                                    // 6
            for (uint q = 0; q < 2; q++)                                                            // 7
            {
                client.SetVringCall(q, (q == 0 ? requestq : eventq).RenewCallFd());
                int err = EventFd.Create();
                errFds.Add(err);
                client.SetVringErr(q, err);
            }

            byte[] config = client.GetConfig(0, 8);                                                 // 8
            Assert.Equal(ProtocolAssert.Hex("08 00 00 00 38 00 00 00"), config);

            // Phase B: start (the guest set DRIVER_OK).
            client.SetVringCall(0, requestq.RenewCallFd());                                         // 9
            client.SetVringCall(1, eventq.RenewCallFd());
            client.SetFeatures(0x1_7000_0000);                                                      // 10: F_IRQ gone
            client.SetMemTable(requestAck: true);                                                   // 11: flags 0x09
            client.SetVringNum(0, (uint)requestLayout.QueueSize);                                   // 12
            client.SetVringBase(0, 0);                                                              // 13
            client.SetVringAddr(0, requestLayout);                                                  // 14
            client.SetVringKick(0, requestq.KickFd);                                                // 15
            client.SetVringCall(0, requestq.RenewCallFd());                                         // 16
            client.SetVringCall(1, eventq.RenewCallFd());
            client.SetVringEnable(0, true);                                                         // 17
            client.SetVringEnable(1, true);                                                         // queue 1 enabled without NUM/ADDR/KICK

            // The guest ran 60 requests (GET_LINE_NAMES during probe, then line operations).
            DriverCompletion names = requestq.SendGpioRequest(1, 0, 0, 1 + 56);
            Assert.Equal(57u, names.Length);
            Assert.Equal(0, names.Written.Span[0]);
            Assert.Equal("line-0\0", System.Text.Encoding.ASCII.GetString(names.Written.Span.Slice(1, 7)));
            for (int i = 1; i < 60; i++)
            {
                DriverCompletion done = requestq.SendGpioRequest(2, (ushort)(i % 8), 0);            // GET_DIRECTION
                Assert.Equal(2u, done.Length);
                Assert.Equal(ProtocolAssert.Hex("00 00"), done.Written.ToArray());
            }

            // Phase C: stop.
            Assert.Equal(60u, client.GetVringBase(0));                                             // 18
            client.SetVringCall(0, requestq.RenewCallFd());                                         // 19
            client.SetVringCall(1, eventq.RenewCallFd());
            ProtocolAssert.NoMessage(client);
        }
        finally
        {
            foreach (int fd in errFds)
            {
                FileDescriptors.Close(fd);
            }
        }

        // Every reply, byte for byte: 7 replies to 26 front-end messages (§12.1 totals).
        string[] expected =
        {
            "01000000 05000000 08000000 0100007001000000",                                            // GET_FEATURES
            "0f000000 05000000 08000000 29b2010000000000",                                            // GET_PROTOCOL_FEATURES
            "11000000 05000000 08000000 0200000000000000",                                            // GET_QUEUE_NUM
            "01000000 05000000 08000000 0100007001000000",                                            // GET_FEATURES
            "18000000 05000000 14000000 00000000 08000000 00000000 0800000038000000",                 // GET_CONFIG
            "05000000 05000000 08000000 0000000000000000",                                            // SET_MEM_TABLE ack
            "0b000000 05000000 08000000 00000000 3c000000",                                           // GET_VRING_BASE {0, 60}
        };
        string[] replies = client.Transcript.Where(m => m.IsReply).Select(m => Convert.ToHexString(m.ToBytes()).ToLowerInvariant()).ToArray();
        Assert.Equal(expected.Select(e => e.Replace(" ", string.Empty, StringComparison.Ordinal)).ToArray(), replies);

        // The front-end side matches the capture too: the right flags on the right messages.
        VhostUserMessage[] sent = client.Transcript.Where(m => !m.IsReply).ToArray();
        Assert.Equal(26, sent.Length);
        VhostUserMessage memTable = Assert.Single(sent, m => m.RequestCode == FrontendRequest.SetMemTable);
        Assert.Equal(0x9u, memTable.Flags);
        Assert.Equal(expectedRegionCount, memTable.FdCount);
        Assert.Equal((uint)(8 + (32 * expectedRegionCount)), memTable.DeclaredSize);
        Assert.All(sent.Where(m => m.RequestCode != FrontendRequest.SetMemTable), m => Assert.Equal(0x1u, m.Flags));
        Assert.Equal(8, sent.Count(m => m.RequestCode == FrontendRequest.SetVringCall));
        Assert.Equal(requestLayout.UsedRing.Value, BinaryPrimitives.ReadUInt64LittleEndian(sent.Single(m => m.RequestCode == FrontendRequest.SetVringAddr).Payload.AsSpan(32)));
    }
}
