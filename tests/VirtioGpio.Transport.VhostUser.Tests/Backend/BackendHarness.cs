// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging.Abstractions;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Transport.VhostUser.Internal;
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

/// <summary>
/// A back-end connection (the real <see cref="VhostUserConnection"/> event loop on its own thread)
/// over a real socketpair, serving a real <see cref="VirtioGpioDevice"/>, plus a raw front-end.
/// </summary>
internal sealed class BackendHarness : IDisposable
{
    private readonly Thread _thread;
    private readonly bool _ownsDevice;

    public BackendHarness(VirtioGpioDevice? device = null, VhostUserBackendOptions? options = null)
    {
        _ownsDevice = device is null;
        Device = device ?? CreateDevice();
        (int backend, int frontend) = UnixSocket.CreatePair();
        Connection = new VhostUserConnection(backend, Device, options ?? new VhostUserBackendOptions(), NullLogger.Instance);
        Frontend = new TestFrontend(frontend);
        _thread = new Thread(Connection.Run) { IsBackground = true, Name = "test vhost-user connection" };
        _thread.Start();
    }

    public VirtioGpioDevice Device { get; }

    public VhostUserConnection Connection { get; }

    public TestFrontend Frontend { get; }

    public static VirtioGpioDevice CreateDevice(int lines = 8)
        => new(new VirtioGpioDeviceOptions { LineCount = lines, RequestQueueMaxSize = 32768, EventQueueMaxSize = 1024 });

    /// <summary>Whether the back-end ended the connection (its loop exited) within 5 s.</summary>
    public bool WaitForExit() => _thread.Join(TestFrontend.TimeoutMilliseconds);

    /// <summary>Phase A of QEMU plus SET_FEATURES (all offered features unless given).</summary>
    public ulong Handshake(ulong? features = null)
    {
        Frontend.Negotiate();
        ulong offered = Frontend.Get(FrontendRequest.GetFeatures);
        Frontend.Send(FrontendRequest.SetFeatures, TestFrontend.U64(features ?? offered));
        return offered;
    }

    public void SetMemTable(GuestRam ram)
        => Assert.Equal(0UL, Frontend.Ack(FrontendRequest.SetMemTable, GuestRam.MemTable(ram.Region), new[] { ram.Fd }));

    /// <summary>NUM, BASE, ADDR, KICK, CALL, then ENABLE (QEMU phase B order), then a round trip.</summary>
    public void StartRing(TestRing ring, int kickFd, int callFd, bool enable = true, ushort baseIndex = 0)
    {
        Assert.Equal(0UL, Frontend.Ack(FrontendRequest.SetVringNum, TestFrontend.State(ring.Index, (uint)ring.Size)));
        Assert.Equal(0UL, Frontend.Ack(FrontendRequest.SetVringBase, TestFrontend.State(ring.Index, baseIndex)));
        Assert.Equal(0UL, Frontend.Ack(FrontendRequest.SetVringAddr, ring.AddressPayload()));
        Assert.Equal(0UL, Frontend.Ack(FrontendRequest.SetVringKick, TestFrontend.U64(ring.Index), new[] { kickFd }));
        Assert.Equal(0UL, Frontend.Ack(FrontendRequest.SetVringCall, TestFrontend.U64(ring.Index), new[] { callFd }));
        if (enable)
        {
            Assert.Equal(0UL, Frontend.Ack(FrontendRequest.SetVringEnable, TestFrontend.State(ring.Index, 1)));
        }
    }

    /// <summary>A round trip: every earlier message has been handled when it returns.</summary>
    public void Sync() => Frontend.Get(FrontendRequest.GetFeatures);

    public void Dispose()
    {
        Frontend.Dispose();
        if (!_thread.Join(TestFrontend.TimeoutMilliseconds))
        {
            Connection.RequestStop();
            Assert.True(_thread.Join(TestFrontend.TimeoutMilliseconds), "the connection loop did not stop");
        }

        if (_ownsDevice)
        {
            Device.Dispose();
        }
    }
}
