// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Testing.VhostUser;
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>Assertions shared by the protocol tests.</summary>
internal static class ProtocolAssert
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    /// <summary>The request was refused: either an 8-byte REPLY_ACK ≠ 0 echoing it, or the back-end closed the connection (VHOST-USER.md §3 "Unknown or rejected request").</summary>
    /// <returns>Whether the connection was closed.</returns>
    public static bool Rejected(VhostUserFrontendClient client, uint request)
    {
        try
        {
            using VhostUserMessage reply = client.ReceiveReply(Wait);
            Assert.Equal(request, reply.Request);
            Assert.Equal(VhostUserFrontendClient.FlagVersion1 | VhostUserFrontendClient.FlagReply, reply.Flags);
            Assert.Equal(8, reply.Payload.Length);
            Assert.NotEqual(0UL, BinaryPrimitives.ReadUInt64LittleEndian(reply.Payload));
            Assert.Equal(0, reply.FdCount);
            return false;
        }
        catch (VhostUserProtocolException e) when (e.IsDisconnected)
        {
            return true;
        }
    }

    /// <summary>The request was refused with an ack ≠ 0 and the connection stays usable.</summary>
    public static void RejectedWithAck(VhostUserFrontendClient client, uint request)
    {
        Assert.False(Rejected(client, request), "expected an error ack, the back-end closed the connection");
        Assert.NotEqual(0UL, client.GetFeatures());
    }

    /// <summary>The back-end closes the connection (VU1 syntax errors).</summary>
    public static void Disconnects(VhostUserFrontendClient client)
    {
        Assert.True(client.WaitForDisconnect(Wait), "the back-end kept the connection open");
    }

    /// <summary>Nothing arrives from the back-end for a short while (no reply to a request that has none).</summary>
    public static void NoMessage(VhostUserFrontendClient client, int milliseconds = 100)
    {
        bool got = client.TryReceiveReply(TimeSpan.FromMilliseconds(milliseconds), out VhostUserMessage? message);
        message?.Dispose();
        Assert.False(got, $"unexpected message {message}");
    }

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
}
