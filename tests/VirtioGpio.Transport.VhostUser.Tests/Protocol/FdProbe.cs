// SPDX-License-Identifier: MIT
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>
/// One end of a socket pair, the other end of which is sent to the back-end as a "surplus" fd:
/// when every copy of the sent end is closed, this end reads EOF. Proves the back-end closed an
/// fd it received (VHOST-USER.md §11) without counting the process's fds.
/// </summary>
internal sealed unsafe class FdProbe : IDisposable
{
    private int _local;
    private int _remote;

    public FdProbe()
    {
        (_local, _remote) = UnixSocket.CreatePair();
    }

    /// <summary>The fd to send.</summary>
    public int Fd => _remote;

    /// <summary>Closes this process's copy of the sent fd (call after sending).</summary>
    public void ReleaseSent() => FileDescriptors.Close(Interlocked.Exchange(ref _remote, -1));

    /// <summary>Whether the back-end's copy was closed within <paramref name="timeout"/> (bytes it wrote meanwhile, such as call signals, are discarded).</summary>
    public bool WaitUntilPeerClosed(TimeSpan timeout)
    {
        ReleaseSent();
        DateTime deadline = DateTime.UtcNow + timeout;
        Span<byte> buffer = stackalloc byte[64];
        Span<int> fds = stackalloc int[4];
        while (true)
        {
            int left = (int)Math.Max(0, (deadline - DateTime.UtcNow).TotalMilliseconds);
            LibC.PollFd poll = new() { Fd = _local, Events = LibC.POLLIN };
            if (LibC.poll(&poll, 1, left) <= 0)
            {
                return false;
            }

            int n = UnixSocket.Receive(_local, buffer, fds, out int count, out _, LibC.MSG_DONTWAIT);
            FileDescriptors.CloseAll(fds.Slice(0, count));
            if (n == 0)
            {
                return true;
            }

            if (n < 0 && n != -LibC.EAGAIN)
            {
                return false;
            }
        }
    }

    public void Dispose()
    {
        FileDescriptors.Close(Interlocked.Exchange(ref _local, -1));
        ReleaseSent();
    }
}
