// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

/// <summary>The listening server: socket path rules, one connection at a time, reconnects (VHOST-USER.md §1, §9).</summary>
public sealed class VhostUserBackendServerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vu-").FullName;

    private string SocketPath => Path.Combine(_directory, "gpio.sock");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.ElapsedMilliseconds < TestFrontend.TimeoutMilliseconds, "timed out waiting for: " + what);
            Thread.Sleep(5);
        }
    }

    private static byte[] Request(ushort type, ushort line, uint value)
    {
        byte[] request = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(request, type);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), line);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), value);
        return request;
    }

    [Fact]
    public async Task ServesConnectionsOneAfterAnotherAndKeepsDeviceStateAcrossReconnects()
    {
        using var device = BackendHarness.CreateDevice();
        await using var server = new VhostUserBackendServer(SocketPath, device);
        int connected = 0;
        int disconnected = 0;
        server.Connected += (_, _) => Interlocked.Increment(ref connected);
        server.Disconnected += (_, _) => Interlocked.Increment(ref disconnected);
        using var cts = new CancellationTokenSource();
        Task run = server.RunAsync(cts.Token);
        Assert.True(File.Exists(SocketPath));

        using var ram = new GuestRam();
        int kick = EventFd.Create();
        int call = EventFd.Create();
        try
        {
            using (var frontend = TestFrontend.Connect(SocketPath))
            {
                frontend.Negotiate();
                frontend.Send(FrontendRequest.SetFeatures, TestFrontend.U64(frontend.Get(FrontendRequest.GetFeatures)));
                Assert.Equal(0UL, frontend.Ack(FrontendRequest.SetMemTable, GuestRam.MemTable(ram.Region), new[] { ram.Fd }));
                var ring = new TestRing(ram, 0, 256, 0x1000);
                Assert.Equal(0UL, frontend.Ack(FrontendRequest.SetVringNum, TestFrontend.State(0, 256)));
                Assert.Equal(0UL, frontend.Ack(FrontendRequest.SetVringAddr, ring.AddressPayload()));
                Assert.Equal(0UL, frontend.Ack(FrontendRequest.SetVringKick, TestFrontend.U64(0), new[] { kick }));
                Assert.Equal(0UL, frontend.Ack(FrontendRequest.SetVringCall, TestFrontend.U64(0), new[] { call }));
                Assert.Equal(0UL, frontend.Ack(FrontendRequest.SetVringEnable, TestFrontend.State(0, 1)));
                ring.Submit(Request(5, 2, 1), 2); // SET_VALUE line 2 = 1
                ring.Submit(Request(3, 2, 1), 2); // SET_DIRECTION line 2 = OUT
                EventFd.Signal(kick);
                Assert.True(ring.WaitUsed(2));
                Assert.True(server.IsConnected);
            }

            WaitUntil(() => Volatile.Read(ref disconnected) == 1, "the disconnect");
            Assert.False(device.GetQueue(0).IsReady);

            // The device was not reset: the line keeps driving its level for the next front-end.
            Assert.Equal(GpioDirection.Output, device.GetLineState(2).Direction);
            Assert.Equal(LineValue.High, device.GetLineState(2).OutputValue);

            // A protocol error on the next connection ends only that connection.
            using (var bad = TestFrontend.Connect(SocketPath))
            {
                bad.SendRaw(1, (VirtioGpio.Transport.VhostUser.Wire.VhostUserHeaderFlags)0x3, default);
                Assert.True(bad.WaitClosed());
            }

            using (var frontend = TestFrontend.Connect(SocketPath))
            {
                Assert.Equal(device.DeviceFeatures | (1UL << 30), frontend.Get(FrontendRequest.GetFeatures));
            }

            WaitUntil(() => Volatile.Read(ref disconnected) == 3, "three disconnects");
            Assert.Equal(3, Volatile.Read(ref connected));
            Assert.Equal(3, server.ConnectionCount);
        }
        finally
        {
            FileDescriptors.Close(kick);
            FileDescriptors.Close(call);
        }

        await cts.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(File.Exists(SocketPath), "the socket file was not removed");
    }

    [Fact]
    public async Task RefusesAPathServedByALiveProcess()
    {
        using var device = BackendHarness.CreateDevice();
        await using var first = new VhostUserBackendServer(SocketPath, device);
        Task run = first.RunAsync(CancellationToken.None);
        await using var second = new VhostUserBackendServer(SocketPath, device);
        var ex = await Assert.ThrowsAsync<VhostUserSocketInUseException>(() => second.RunAsync(CancellationToken.None));
        Assert.Contains(SocketPath, ex.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(SocketPath));

        // The first server still serves.
        using (var frontend = TestFrontend.Connect(SocketPath))
        {
            Assert.Equal(device.DeviceFeatures | (1UL << 30), frontend.Get(FrontendRequest.GetFeatures));
        }

        await first.DisposeAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(File.Exists(SocketPath));
    }

    [Fact]
    public async Task RemovesAStaleSocketFile()
    {
        FileDescriptors.Close(UnixSocket.CreateListener(SocketPath)); // bound, nobody listens any more
        Assert.True(File.Exists(SocketPath));
        using var device = BackendHarness.CreateDevice();
        await using var server = new VhostUserBackendServer(SocketPath, device);
        Task run = server.RunAsync(CancellationToken.None);
        using (var frontend = TestFrontend.Connect(SocketPath))
        {
            Assert.Equal(device.DeviceFeatures | (1UL << 30), frontend.Get(FrontendRequest.GetFeatures));
        }

        Assert.False(run.IsFaulted);
    }

    [Fact]
    public async Task RefusesToReplaceARegularFile()
    {
        await File.WriteAllTextAsync(SocketPath, "not a socket");
        using var device = BackendHarness.CreateDevice();
        await using var server = new VhostUserBackendServer(SocketPath, device);
        await Assert.ThrowsAsync<IOException>(() => server.RunAsync(CancellationToken.None));
        Assert.Equal("not a socket", await File.ReadAllTextAsync(SocketPath));
    }

    [Fact]
    public async Task DisposeWhileAFrontendIsConnectedStopsAndRemovesTheSocket()
    {
        using var device = BackendHarness.CreateDevice();
        var server = new VhostUserBackendServer(SocketPath, device);
        Task run = server.RunAsync(CancellationToken.None);
        using var frontend = TestFrontend.Connect(SocketPath);
        Assert.Equal(device.DeviceFeatures | (1UL << 30), frontend.Get(FrontendRequest.GetFeatures));
        await server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(run.IsCompletedSuccessfully);
        Assert.True(frontend.WaitClosed());
        Assert.False(File.Exists(SocketPath));
    }

    [Fact]
    public void RejectsInvalidOptionsAndPaths()
    {
        using var device = BackendHarness.CreateDevice();
        Assert.Throws<ArgumentOutOfRangeException>(() => new VhostUserBackendServer(SocketPath, device, new VhostUserBackendOptions { MaxQueueSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VhostUserBackendServer(SocketPath, device, new VhostUserBackendOptions { MaxQueueSize = 3000 }));
        Assert.Throws<ArgumentException>(() => new VhostUserBackendServer(new string('x', 200), device));
        Assert.Throws<ArgumentException>(() => new VhostUserBackendServer(string.Empty, device));
    }
}
