// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace VirtioGpio.Device.Tests.Draft;

/// <summary>Random (seeded, deterministic) request streams: every request gets exactly one well-formed reply.</summary>
public class DraftRandomRequestTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryRandomRequestGetsExactlyOneSafeReply(int seed)
    {
        var rng = new Random(seed);
        var h = new DraftDeviceHarness(q0Size: 256, q1Size: 1024);
        h.PostRx();
        int[] allowedErrors = { -1, -5, -22, -95 };
        for (int i = 0; i < 600; i++)
        {
            byte[] request = new byte[8];
            ushort type = rng.Next(4) == 0 ? (ushort)rng.Next(0x10000) : (ushort)rng.Next(0, 9);
            ushort pin = rng.Next(4) == 0 ? (ushort)rng.Next(0x10000) : (ushort)rng.Next(0, 10);
            uint value = rng.Next(4) == 0 ? (uint)rng.NextInt64(0, 1L << 32) : (uint)rng.Next(0, 3);
            BinaryPrimitives.WriteUInt16LittleEndian(request, type);
            BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), pin);
            BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), value);

            h.ClearTrace();
            h.PostRx();
            h.AddTx(request);
            h.Device.NotifyQueue(1);
            Assert.Equal(new[] { "C0:8", "C1:0", "N1" }, h.Trace);
            var reply = h.TakeReply();
            Assert.Equal(8u, reply.Length);
            ushort replyType = BinaryPrimitives.ReadUInt16LittleEndian(reply.WritableBytes);
            int result = BinaryPrimitives.ReadInt32LittleEndian(reply.WritableBytes.AsSpan(4));
            Assert.Equal(0xF000, replyType & 0xF000);
            Assert.True((replyType & 0x0FFF) < 64, $"stripped reply type 0x{replyType:x4} would overflow the driver's bitmap");
            Assert.Equal(pin, BinaryPrimitives.ReadUInt16LittleEndian(reply.WritableBytes.AsSpan(2)));
            Assert.True(result is 0 or 1 || allowedErrors.Contains(result), $"result {result}");
            Assert.True(h.Tx.TryTakeUsed(out _));
        }

        Assert.False(h.Device.NeedsReset);
        Assert.Equal(600L, h.Device.CompletedRequestCount);
    }
}
