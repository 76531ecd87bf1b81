// SPDX-License-Identifier: MIT
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>One <c>sendmsg</c> with any number of SCM_RIGHTS fds (the interop helper caps at 32).</summary>
internal static unsafe class RawSocket
{
    public static int Send(int socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        int controlLength = LibC.CmsgSpace(fds.Length * sizeof(int));
        byte[] control = new byte[controlLength];
        fixed (byte* c = control)
        fixed (byte* d = data)
        {
            LibC.CmsgHdr* header = (LibC.CmsgHdr*)c;
            header->Length = (nuint)LibC.CmsgLen(fds.Length * sizeof(int));
            header->Level = LibC.SOL_SOCKET;
            header->Type = LibC.SCM_RIGHTS;
            fds.CopyTo(new Span<int>(c + LibC.CmsgLen(0), fds.Length));
            LibC.IoVec iov = new() { Base = d, Length = (nuint)data.Length };
            LibC.MsgHdr message = new() { Iov = &iov, IovLength = 1, Control = c, ControlLength = (nuint)controlLength };
            nint sent = LibC.sendmsg(socket, &message, LibC.MSG_NOSIGNAL);
            return sent == data.Length ? 0 : sent < 0 ? LibC.LastError : -1;
        }
    }
}
