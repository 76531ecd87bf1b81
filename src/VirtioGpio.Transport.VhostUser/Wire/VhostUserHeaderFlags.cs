// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser.Wire;

/// <summary>The <c>flags</c> field of the message header (VHOST-USER.md §2).</summary>
[Flags]
internal enum VhostUserHeaderFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>Bits 0–1: the protocol version, which must be 1.</summary>
    VersionMask = 0x3,

    /// <summary>Version 1.</summary>
    Version1 = 0x1,

    /// <summary>Bit 2: set on every reply.</summary>
    Reply = 0x4,

    /// <summary>Bit 3: the sender wants an ack (REPLY_ACK).</summary>
    NeedReply = 0x8,

    /// <summary>Every other bit is reserved (rust-vmm RESERVED_BITS = !0xf).</summary>
    ReservedMask = ~0xFu,
}
