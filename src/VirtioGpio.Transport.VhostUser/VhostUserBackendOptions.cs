// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Transport.VhostUser;

/// <summary>Options of a <see cref="VhostUserBackendServer"/>.</summary>
public sealed class VhostUserBackendOptions
{
    /// <summary>
    /// The largest ring size accepted in SET_VRING_NUM: a power of two, 1..32768 (default 32768).
    /// The effective limit is also capped by each queue's <see cref="SplitQueue.MaxSize"/>.
    /// Keep it at 1024 or more: QEMU's virtio-mmio always uses 1024-entry rings, and a back-end
    /// that refuses them hangs the guest (VHOST-USER.md §12.3, PEERS.md VDG-13).
    /// </summary>
    public int MaxQueueSize { get; set; } = SplitQueue.MaxQueueSize;

    /// <summary>
    /// The protocol features offered in GET_PROTOCOL_FEATURES; bits this back-end does not
    /// implement are masked off (default and maximum: <see cref="VhostUserProtocolFeatures.Supported"/>).
    /// CONFIG is always offered: QEMU's vhost-user-gpio refuses a back-end without it.
    /// </summary>
    public VhostUserProtocolFeatures ProtocolFeatures { get; set; } = VhostUserProtocolFeatures.Supported;

    /// <summary>The slot count returned by GET_MAX_MEM_SLOTS (8..509, default 32).</summary>
    public int MaxMemorySlots { get; set; } = 32;

    /// <summary>
    /// How long the back-end waits for the rest of a message once its first byte arrived, and for
    /// a reply to be accepted by the socket (default 5 s). A front-end that stalls longer is
    /// disconnected.
    /// </summary>
    public TimeSpan IoTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Listen backlog of the socket (default 4): further front-ends wait while one is served.</summary>
    public int ListenBacklog { get; set; } = 4;

    internal void Validate()
    {
        if (MaxQueueSize < 1 || MaxQueueSize > SplitQueue.MaxQueueSize || (MaxQueueSize & (MaxQueueSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxQueueSize), MaxQueueSize, "The maximum queue size must be a power of two between 1 and 32768.");
        }

        if (MaxMemorySlots < 8 || MaxMemorySlots > 509)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxMemorySlots), MaxMemorySlots, "The memory slot count must be between 8 and 509.");
        }

        if (IoTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(IoTimeout), IoTimeout, "The I/O timeout must be positive.");
        }

        if (ListenBacklog < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ListenBacklog), ListenBacklog, "The backlog must be at least 1.");
        }
    }

    internal VhostUserProtocolFeatures EffectiveProtocolFeatures
        => (ProtocolFeatures & VhostUserProtocolFeatures.Supported) | VhostUserProtocolFeatures.Config;
}
