// SPDX-License-Identifier: MIT
using VirtioGpio.Transport.VhostUser.Wire;

namespace VirtioGpio.Transport.VhostUser.Internal;

/// <summary>
/// The back-end's view of one ring on one connection (VHOST-USER.md §6 "Ring states"): started /
/// stopped and enabled / disabled are independent; the device queue is ready only when the ring is
/// started, enabled, sized, addressed and memory is mapped.
/// </summary>
/// <remarks>Owned by the connection's event-loop thread, except <see cref="Started"/> (read by the
/// interrupt sink) and the fds guarded by <see cref="SignalLock"/>.</remarks>
internal sealed class VringState
{
    public VringState(int index) => Index = index;

    public int Index { get; }

    /// <summary>Ring size from SET_VRING_NUM (0 = unset).</summary>
    public int Num { get; set; }

    public bool HasAddress { get; set; }

    public VhostUserVringAddress Address { get; set; }

    /// <summary>Next avail index from SET_VRING_BASE (or the value last returned by GET_VRING_BASE).</summary>
    public ushort Base { get; set; }

    /// <summary>SET_VRING_BASE arrived since the queue was last configured.</summary>
    public bool BaseDirty { get; set; } = true;

    /// <summary>The device queue was configured from this state (its indices are live).</summary>
    public bool Configured { get; set; }

    /// <summary>Kick eventfd (-1 = none).</summary>
    public int KickFd { get; set; } = -1;

    /// <summary>Incremented whenever the kick fd changes; part of the epoll token so a stale event is ignored.</summary>
    public uint KickGeneration { get; set; }

    /// <summary>SET_VRING_KICK with bit 8: no fd, the back-end polls the ring.</summary>
    public bool KickPolling { get; set; }

    /// <summary>Guards <see cref="CallFd"/> and <see cref="ErrFd"/> against replacement while another thread signals.</summary>
    public object SignalLock { get; } = new();

    /// <summary>Call eventfd (-1 = none). Read and written under <see cref="SignalLock"/>.</summary>
    public int CallFd = -1;

    /// <summary>Err eventfd (-1 = none). Read and written under <see cref="SignalLock"/>.</summary>
    public int ErrFd = -1;

    private volatile bool _started;

    /// <summary>Started by SET_VRING_KICK / a kick; stopped by GET_VRING_BASE.</summary>
    public bool Started
    {
        get => _started;
        set => _started = value;
    }

    /// <summary>Enabled by SET_VRING_ENABLE(1) or SET_FEATURES without bit 30.</summary>
    public bool Enabled { get; set; }

    /// <summary>The device queue is ready (SetQueueReady(true) succeeded).</summary>
    public bool Ready { get; set; }

    /// <summary>Stopped by GET_VRING_BASE: the next start checks whether held chains may be kept (VHOST-USER.md §6.3).</summary>
    public bool StoppedByGetBase { get; set; }

    public ushort ReturnedBase { get; set; }

    public VhostUserVringAddress StoppedAddress { get; set; }

    public int StoppedNum { get; set; }

    /// <summary>Inflight recovery pending for the next start (after SET_INFLIGHT_FD).</summary>
    public bool RecoverInflight { get; set; }

    /// <summary>The err fd was signalled for the current break.</summary>
    public bool ErrSignalled { get; set; }

    /// <summary>Forgets the ring configuration (RESET_DEVICE, SET_STATUS 0); fds are handled by the caller.</summary>
    public void ResetConfiguration()
    {
        Num = 0;
        HasAddress = false;
        Address = default;
        Base = 0;
        BaseDirty = true;
        Configured = false;
        Started = false;
        Enabled = false;
        Ready = false;
        StoppedByGetBase = false;
        RecoverInflight = false;
        ErrSignalled = false;
    }
}
