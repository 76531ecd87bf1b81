// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Tests.Draft;

public class DraftAllocationTests
{
    [Fact]
    public void ServingRequestsAllocatesNothing()
    {
        var h = new DraftDeviceHarness(q0Size: 256, q1Size: 256, fastPath: true) { TracingEnabled = false };
        h.PostRx();
        h.Rpc("03 00 01 00 01 00 00 00"); // warm-up: JIT, first-use paths
        h.Rpc("06 00 01 00 00 00 00 00");
        for (int i = 0; i < 100; i++)
        {
            h.PostRx(kick: false);
            h.AddTx(DraftDeviceHarness.Hex(i % 2 == 0 ? "05 00 01 00 00 00 00 00" : "04 00 02 00 00 00 00 00"));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        h.Device.NotifyQueue(1);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(102L, h.Device.CompletedRequestCount);
        Assert.Equal(0L, allocated);
    }

    [Fact]
    [Trait("Spec", "DRAFT-28")]
    public void TheEngineFastPathServesTheSameReplies()
    {
        var h = new DraftDeviceHarness(fastPath: true);
        h.PostRx();
        h.Rpc("03 00 06 00 01 00 00 00");
        Assert.Equal("03f0060000000000", h.TakeReplyHex());
        h.Rpc("05 00 06 00 00 00 00 00");
        Assert.Equal("05f0060001000000", h.TakeReplyHex());
        Assert.Equal(new[] { "N1", "N1" }, h.Trace);
        Assert.Equal(2, h.Tx.TakeAllUsed().Count(c => c.Length == 0));
    }
}
