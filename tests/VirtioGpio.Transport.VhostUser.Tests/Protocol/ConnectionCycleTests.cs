// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Testing.VhostUser;
using VirtioGpio.Transport.VhostUser.Interop;
using VirtioGpio.Transport.VhostUser.Tests.Backend;

namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>1000 full sessions against one server: no fd leak, no memory growth, and the device outlives them. Runs alone (fd accounting).</summary>
[Collection(FdAccountingCollection.Name)]
public sealed class ConnectionCycleTests
{
    [Fact]
    [Trait("Spec", "VU13")]
    public async Task ThousandConnectDisconnectCyclesLeakNoFdsAndNoMemory()
    {
        await using ProtocolServer server = ProtocolServer.Start();
        var options = new VhostUserFrontendClientOptions { MemorySize = 1 << 20 };
        for (int i = 0; i < 20; i++)
        {
            RunSession(server, options, i);
        }

        server.WaitForDisconnects(20);
        long memoryBefore = FullGcMemory();
        int fdsBefore = FileDescriptors.CountOpen();

        const int Cycles = 1000;
        for (int i = 0; i < Cycles; i++)
        {
            RunSession(server, options, i);
        }

        server.WaitForDisconnects(20 + Cycles);
        Assert.Equal(20 + Cycles, server.Server.ConnectionCount);
        int fdsAfter = FileDescriptors.CountOpen();
        long memoryAfter = FullGcMemory();

        // One leaked fd per session would add 1000; the slack covers runtime-internal fds (thread pool, GC).
        Assert.True(fdsAfter - fdsBefore < 20, $"fds: {fdsBefore} before, {fdsAfter} after {Cycles} sessions");
        Assert.True(memoryAfter - memoryBefore < 32L << 20, $"managed memory: {memoryBefore} before, {memoryAfter} after {Cycles} sessions");

        // Line state survived every reconnect (the device outlives connections).
        using VhostUserFrontendClient last = server.ConnectAndStart(options: options, queueSize: 16);
        Assert.Equal(new byte[] { 0, (byte)((Cycles - 1) % 2) }, last.Queues[0].SendGpioRequest(4, 5, 0).Written.ToArray());
    }

    private static void RunSession(ProtocolServer server, VhostUserFrontendClientOptions options, int i)
    {
        using VhostUserFrontendClient client = server.ConnectAndStart(options: options, queueSize: 16);
        VhostUserFrontendQueue queue = client.Queues[0];
        Assert.Equal(0, queue.SendGpioRequest(5, 5, (uint)(i % 2)).Written.Span[0]);  // SET_VALUE line 5 (latched)
        if (i % 2 == 0)
        {
            Assert.Equal(0, queue.SendGpioRequest(3, 5, 1).Written.Span[0]);         // SET_DIRECTION out
        }
    }

    private static long FullGcMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
