// SPDX-License-Identifier: MIT
using VirtioGpio.Transport.VhostUser.Interop;
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

/// <summary>File-descriptor hygiene (VHOST-USER.md §11; VU13, VU14; CVE-2022-0669). Counts this process's fds.</summary>
[Collection(FdAccountingCollection.Name)]
public sealed class BackendFdHygieneTests
{
    private static int[] CreateEventFds(int count)
    {
        int[] fds = new int[count];
        for (int i = 0; i < count; i++)
        {
            fds[i] = EventFd.Create();
        }

        return fds;
    }

    private static void CloseAll(int[] fds)
    {
        foreach (int fd in fds)
        {
            FileDescriptors.Close(fd);
        }
    }

    private static HashSet<int> OpenFds()
        => Directory.GetFileSystemEntries("/proc/self/fd").Select(static p => int.Parse(Path.GetFileName(p), System.Globalization.CultureInfo.InvariantCulture))
            .Where(FileDescriptors.IsOpen) // drops the directory fd of the enumeration itself
            .ToHashSet();

    [Fact]
    [Trait("Spec", "VU13")]
    public void FdsOnGetFeaturesAreClosedAndTheRequestRefused()
    {
        int[] fds = CreateEventFds(3);
        try
        {
            using var harness = new BackendHarness();
            harness.Frontend.Negotiate();
            harness.Sync();
            int baseline = FileDescriptors.CountOpen();

            // GET_FEATURES cannot be nacked (it has its own reply): the connection closes.
            harness.Frontend.Send(FrontendRequest.GetFeatures, needReply: true, fds: fds);
            Assert.True(harness.Frontend.WaitClosed());
            Assert.True(harness.WaitForExit());
            Assert.True(FileDescriptors.CountOpen() <= baseline - 1, "fds were kept"); // the back-end's socket is gone too
        }
        finally
        {
            CloseAll(fds);
        }
    }

    [Fact]
    [Trait("Spec", "VU13")]
    public void SurplusAndUnexpectedFdsAreClosed()
    {
        int[] fds = CreateEventFds(2);
        try
        {
            using var harness = new BackendHarness();
            harness.Frontend.Negotiate();
            harness.Sync();
            int baseline = FileDescriptors.CountOpen();

            Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetVringCall, TestFrontend.U64(0), fds)); // 2 fds
            Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetVringCall, TestFrontend.U64(0x100), fds.AsSpan(0, 1))); // "no fd" + 1 fd
            Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetOwner, default, fds));
            Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetInflightFd, new byte[24], fds)); // CVE-2022-0669
            Assert.NotEqual(0UL, harness.Frontend.Ack(FrontendRequest.SetVringEnable, TestFrontend.State(0, 1), fds));
            harness.Frontend.Send(FrontendRequest.GetInflightFd, new byte[24], needReply: true, fds: fds); // refused: closes
            Assert.True(harness.Frontend.WaitClosed());
            Assert.True(harness.WaitForExit());
            Assert.True(FileDescriptors.CountOpen() <= baseline - 1, "fds were kept");
        }
        finally
        {
            CloseAll(fds);
        }
    }

    [Fact]
    [Trait("Spec", "VU13")]
    public void MoreThan32FdsCloseTheConnectionAndLeakNothing()
    {
        int[] fds = CreateEventFds(64);
        try
        {
            using var harness = new BackendHarness();
            harness.Frontend.Negotiate();
            harness.Sync();
            int baseline = FileDescriptors.CountOpen();

            // The kernel truncates the control data (MSG_CTRUNC): the back-end closes what it got.
            byte[] message = new byte[20];
            new VhostUserMessageHeader((uint)FrontendRequest.SetVringCall, VhostUserHeaderFlags.Version1, 8).Write(message);
            Assert.Equal(0, SendWithManyFds(harness.Frontend.Fd, message, fds));
            Assert.True(harness.Frontend.WaitClosed());
            Assert.True(harness.WaitForExit());
            Assert.True(FileDescriptors.CountOpen() <= baseline - 1, "fds were kept");
        }
        finally
        {
            CloseAll(fds);
        }
    }

    private static unsafe int SendWithManyFds(int socket, byte[] data, int[] fds)
    {
        int controlLength = LibC.CmsgSpace(fds.Length * sizeof(int));
        byte* control = stackalloc byte[controlLength];
        new Span<byte>(control, controlLength).Clear();
        LibC.CmsgHdr* header = (LibC.CmsgHdr*)control;
        header->Length = (nuint)LibC.CmsgLen(fds.Length * sizeof(int));
        header->Level = LibC.SOL_SOCKET;
        header->Type = LibC.SCM_RIGHTS;
        fds.CopyTo(new Span<int>(control + LibC.CmsgLen(0), fds.Length));
        fixed (byte* p = data)
        {
            LibC.IoVec iov = new() { Base = p, Length = (nuint)data.Length };
            LibC.MsgHdr message = new() { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)controlLength };
            return LibC.sendmsg(socket, &message, LibC.MSG_NOSIGNAL) == data.Length ? 0 : LibC.LastError;
        }
    }

    [Fact]
    [Trait("Spec", "VU13")]
    public void ReceivedFdsAreCloseOnExec()
    {
        int[] fds = CreateEventFds(3);
        try
        {
            using var harness = new BackendHarness();
            harness.Frontend.Negotiate();
            harness.Sync();
            HashSet<int> before = OpenFds();
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringCall, TestFrontend.U64(0), fds.AsSpan(0, 1)));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringErr, TestFrontend.U64(1), fds.AsSpan(1, 1)));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetBackendReqFd, default, fds.AsSpan(2, 1)));
            int[] received = OpenFds().Except(before).ToArray();
            Assert.True(received.Length == 3, string.Join(", ", received.Select(fd => $"{fd} -> {new FileInfo($"/proc/self/fd/{fd}").LinkTarget}")));
            Assert.All(received, fd => Assert.True(FileDescriptors.IsCloseOnExec(fd), $"fd {fd} ({new FileInfo($"/proc/self/fd/{fd}").LinkTarget}) lacks FD_CLOEXEC"));
        }
        finally
        {
            CloseAll(fds);
        }
    }

    [Fact]
    [Trait("Spec", "VU14")]
    public void ReplacedCallFdIsClosedAndLaterSignalsGoToTheNewOne()
    {
        using var harness = new BackendHarness();
        using var ram = new GuestRam();
        var ring = new TestRing(ram, 0, 256, 0x1000);
        int[] fds = CreateEventFds(3);
        try
        {
            harness.Handshake();
            harness.SetMemTable(ram);
            harness.StartRing(ring, fds[0], fds[1]);
            ring.Submit(TestRing.GetValueRequest(0), 2);
            EventFd.Signal(fds[0]);
            Assert.True(ring.WaitUsed(1));
            Assert.True(EventFd.Wait(fds[1], TestFrontend.TimeoutMilliseconds));

            int baseline = FileDescriptors.CountOpen();
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringCall, TestFrontend.U64(0), fds.AsSpan(2, 1)));
            Assert.Equal(baseline, FileDescriptors.CountOpen()); // one received, the old one closed

            ring.Submit(TestRing.GetValueRequest(1), 2);
            EventFd.Signal(fds[0]);
            Assert.True(ring.WaitUsed(2));
            Assert.True(EventFd.Wait(fds[2], TestFrontend.TimeoutMilliseconds), "the new call fd was not signalled");
            Assert.False(EventFd.Wait(fds[1], 0), "the old call fd was signalled");
        }
        finally
        {
            CloseAll(fds);
        }
    }

    [Fact]
    public void DisconnectClosesEveryFdAndUnmapsMemory()
    {
        using var ram = new GuestRam();
        int[] fds = CreateEventFds(4);
        try
        {
            int baseline = FileDescriptors.CountOpen();
            var harness = new BackendHarness();
            harness.Handshake();
            harness.SetMemTable(ram);
            byte[] inflight = new byte[VhostUserInflightInfo.EncodedSize];
            new VhostUserInflightInfo(0, 0, 2, 256).Write(inflight);
            harness.Frontend.Send(FrontendRequest.GetInflightFd, inflight);
            var reply = harness.Frontend.ReceiveWithFds();
            Assert.Single(reply.Fds);
            FileDescriptors.Close(reply.Fds[0]);
            harness.StartRing(new TestRing(ram, 0, 256, 0x1000), fds[0], fds[1]);
            harness.StartRing(new TestRing(ram, 1, 256, 0x20000), fds[2], fds[3]);
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetVringErr, TestFrontend.U64(0), fds.AsSpan(3, 1)));
            Assert.Equal(0UL, harness.Frontend.Ack(FrontendRequest.SetBackendReqFd, default, fds.AsSpan(2, 1)));
            harness.Frontend.Send(FrontendRequest.GetVringBase, TestFrontend.State(1, 0));
            harness.Frontend.Receive();
            harness.Frontend.Dispose();
            Assert.True(harness.WaitForExit());
            harness.Dispose();
            Assert.Equal(baseline, FileDescriptors.CountOpen());
        }
        finally
        {
            CloseAll(fds);
        }
    }
}
