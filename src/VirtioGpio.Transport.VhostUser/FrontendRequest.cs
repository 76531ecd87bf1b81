// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser;

/// <summary>
/// Front-end → back-end request codes (qemu docs/interop/vhost-user.rst "Front-end message
/// types"; VHOST-USER.md §3). Values are the wire values.
/// </summary>
public enum FrontendRequest : uint
{
    /// <summary>No request (0 is not a valid code).</summary>
    None = 0,

    /// <summary>VHOST_USER_GET_FEATURES: reply u64 virtio features.</summary>
    GetFeatures = 1,

    /// <summary>VHOST_USER_SET_FEATURES: u64 acked features.</summary>
    SetFeatures = 2,

    /// <summary>VHOST_USER_SET_OWNER: session start.</summary>
    SetOwner = 3,

    /// <summary>VHOST_USER_RESET_OWNER (deprecated): disables all rings here.</summary>
    ResetOwner = 4,

    /// <summary>VHOST_USER_SET_MEM_TABLE: memory regions, one fd each.</summary>
    SetMemTable = 5,

    /// <summary>VHOST_USER_SET_LOG_BASE (LOG_SHMFD only).</summary>
    SetLogBase = 6,

    /// <summary>VHOST_USER_SET_LOG_FD.</summary>
    SetLogFd = 7,

    /// <summary>VHOST_USER_SET_VRING_NUM: ring size.</summary>
    SetVringNum = 8,

    /// <summary>VHOST_USER_SET_VRING_ADDR: ring user addresses.</summary>
    SetVringAddr = 9,

    /// <summary>VHOST_USER_SET_VRING_BASE: next avail index.</summary>
    SetVringBase = 10,

    /// <summary>VHOST_USER_GET_VRING_BASE: stops the ring, reply next avail index.</summary>
    GetVringBase = 11,

    /// <summary>VHOST_USER_SET_VRING_KICK: kick eventfd (bit 8: no fd, poll).</summary>
    SetVringKick = 12,

    /// <summary>VHOST_USER_SET_VRING_CALL: call eventfd (bit 8: no fd).</summary>
    SetVringCall = 13,

    /// <summary>VHOST_USER_SET_VRING_ERR: err eventfd (bit 8: no fd).</summary>
    SetVringErr = 14,

    /// <summary>VHOST_USER_GET_PROTOCOL_FEATURES: reply u64 protocol features.</summary>
    GetProtocolFeatures = 15,

    /// <summary>VHOST_USER_SET_PROTOCOL_FEATURES: u64 acked protocol features.</summary>
    SetProtocolFeatures = 16,

    /// <summary>VHOST_USER_GET_QUEUE_NUM (MQ): reply u64 queue count.</summary>
    GetQueueNum = 17,

    /// <summary>VHOST_USER_SET_VRING_ENABLE: enable/disable a ring.</summary>
    SetVringEnable = 18,

    /// <summary>VHOST_USER_SEND_RARP (net only).</summary>
    SendRarp = 19,

    /// <summary>VHOST_USER_NET_SET_MTU (net only).</summary>
    NetSetMtu = 20,

    /// <summary>VHOST_USER_SET_BACKEND_REQ_FD: the back-end request channel socket.</summary>
    SetBackendReqFd = 21,

    /// <summary>VHOST_USER_IOTLB_MSG (IOMMU_PLATFORM only).</summary>
    IotlbMsg = 22,

    /// <summary>VHOST_USER_SET_VRING_ENDIAN (CROSS_ENDIAN only).</summary>
    SetVringEndian = 23,

    /// <summary>VHOST_USER_GET_CONFIG: read device config space.</summary>
    GetConfig = 24,

    /// <summary>VHOST_USER_SET_CONFIG: write device config space.</summary>
    SetConfig = 25,

    /// <summary>VHOST_USER_CREATE_CRYPTO_SESSION.</summary>
    CreateCryptoSession = 26,

    /// <summary>VHOST_USER_CLOSE_CRYPTO_SESSION.</summary>
    CloseCryptoSession = 27,

    /// <summary>VHOST_USER_POSTCOPY_ADVISE.</summary>
    PostcopyAdvise = 28,

    /// <summary>VHOST_USER_POSTCOPY_LISTEN.</summary>
    PostcopyListen = 29,

    /// <summary>VHOST_USER_POSTCOPY_END.</summary>
    PostcopyEnd = 30,

    /// <summary>VHOST_USER_GET_INFLIGHT_FD (INFLIGHT_SHMFD): reply inflight + 1 fd.</summary>
    GetInflightFd = 31,

    /// <summary>VHOST_USER_SET_INFLIGHT_FD (INFLIGHT_SHMFD): inflight + 1 fd.</summary>
    SetInflightFd = 32,

    /// <summary>VHOST_USER_GPU_SET_SOCKET.</summary>
    GpuSetSocket = 33,

    /// <summary>VHOST_USER_RESET_DEVICE (RESET_DEVICE).</summary>
    ResetDevice = 34,

    /// <summary>VHOST_USER_VRING_KICK (INBAND_NOTIFICATIONS).</summary>
    VringKick = 35,

    /// <summary>VHOST_USER_GET_MAX_MEM_SLOTS (CONFIGURE_MEM_SLOTS).</summary>
    GetMaxMemSlots = 36,

    /// <summary>VHOST_USER_ADD_MEM_REG (CONFIGURE_MEM_SLOTS): one region, exactly 1 fd.</summary>
    AddMemReg = 37,

    /// <summary>VHOST_USER_REM_MEM_REG (CONFIGURE_MEM_SLOTS).</summary>
    RemMemReg = 38,

    /// <summary>VHOST_USER_SET_STATUS (STATUS): virtio status byte.</summary>
    SetStatus = 39,

    /// <summary>VHOST_USER_GET_STATUS (STATUS).</summary>
    GetStatus = 40,

    /// <summary>VHOST_USER_GET_SHARED_OBJECT.</summary>
    GetSharedObject = 41,

    /// <summary>VHOST_USER_SET_DEVICE_STATE_FD (DEVICE_STATE).</summary>
    SetDeviceStateFd = 42,

    /// <summary>VHOST_USER_CHECK_DEVICE_STATE (DEVICE_STATE).</summary>
    CheckDeviceState = 43,

    /// <summary>VHOST_USER_GET_SHMEM_CONFIG (rust-vmm only; not settled).</summary>
    GetShmemConfig = 44,
}
