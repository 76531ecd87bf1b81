// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser;

/// <summary>
/// vhost-user protocol feature bits as masks (<c>1UL &lt;&lt; bit</c>; never the bit number itself, the
/// libvhost-user defect LVU-3). qemu docs/interop/vhost-user.rst "Protocol features"; VHOST-USER.md §5.2.
/// </summary>
[Flags]
public enum VhostUserProtocolFeatures : ulong
{
    /// <summary>No protocol feature.</summary>
    None = 0,

    /// <summary>Bit 0, VHOST_USER_PROTOCOL_F_MQ: GET_QUEUE_NUM.</summary>
    Mq = 1UL << 0,

    /// <summary>Bit 1, LOG_SHMFD.</summary>
    LogShmfd = 1UL << 1,

    /// <summary>Bit 2, RARP.</summary>
    Rarp = 1UL << 2,

    /// <summary>Bit 3, REPLY_ACK: NEED_REPLY is honoured.</summary>
    ReplyAck = 1UL << 3,

    /// <summary>Bit 4, MTU.</summary>
    Mtu = 1UL << 4,

    /// <summary>Bit 5, BACKEND_REQ: SET_BACKEND_REQ_FD.</summary>
    BackendReq = 1UL << 5,

    /// <summary>Bit 6, CROSS_ENDIAN.</summary>
    CrossEndian = 1UL << 6,

    /// <summary>Bit 7, CRYPTO_SESSION.</summary>
    CryptoSession = 1UL << 7,

    /// <summary>Bit 8, PAGEFAULT.</summary>
    Pagefault = 1UL << 8,

    /// <summary>Bit 9, CONFIG: GET_CONFIG / SET_CONFIG.</summary>
    Config = 1UL << 9,

    /// <summary>Bit 10, BACKEND_SEND_FD.</summary>
    BackendSendFd = 1UL << 10,

    /// <summary>Bit 11, HOST_NOTIFIER.</summary>
    HostNotifier = 1UL << 11,

    /// <summary>Bit 12, INFLIGHT_SHMFD: GET/SET_INFLIGHT_FD.</summary>
    InflightShmfd = 1UL << 12,

    /// <summary>Bit 13, RESET_DEVICE.</summary>
    ResetDevice = 1UL << 13,

    /// <summary>Bit 14, INBAND_NOTIFICATIONS.</summary>
    InbandNotifications = 1UL << 14,

    /// <summary>Bit 15, CONFIGURE_MEM_SLOTS: GET_MAX_MEM_SLOTS / ADD_MEM_REG / REM_MEM_REG.</summary>
    ConfigureMemSlots = 1UL << 15,

    /// <summary>Bit 16, STATUS: SET_STATUS / GET_STATUS.</summary>
    Status = 1UL << 16,

    /// <summary>Bit 17, XEN_MMAP.</summary>
    XenMmap = 1UL << 17,

    /// <summary>Bit 18, SHARED_OBJECT.</summary>
    SharedObject = 1UL << 18,

    /// <summary>Bit 19, DEVICE_STATE.</summary>
    DeviceState = 1UL << 19,

    /// <summary>
    /// What this back-end implements and offers by default: MQ, REPLY_ACK, CONFIG, BACKEND_REQ,
    /// INFLIGHT_SHMFD, RESET_DEVICE, CONFIGURE_MEM_SLOTS, STATUS (0x1B229).
    /// </summary>
    Supported = Mq | ReplyAck | Config | BackendReq | InflightShmfd | ResetDevice | ConfigureMemSlots | Status,
}
