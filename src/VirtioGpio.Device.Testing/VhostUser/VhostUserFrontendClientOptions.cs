// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing.VhostUser;

/// <summary>Settings of a <see cref="VhostUserFrontendClient"/>.</summary>
public sealed class VhostUserFrontendClientOptions
{
    /// <summary>How long to wait for each reply and each completion (default 5 s). Every wait fails with <see cref="TimeoutException"/> after it.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long <see cref="VhostUserFrontendClient.Connect"/> retries while the socket is absent or refuses (default 5 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Guest memory: one region at guest address 0 of this size, unless <see cref="MemoryRegions"/> is set (default 4 MiB).</summary>
    public ulong MemorySize { get; set; } = 4UL << 20;

    /// <summary>Explicit guest memory regions (several regions, shared memfds, offsets); overrides <see cref="MemorySize"/>.</summary>
    public IReadOnlyList<VhostUserMemoryRegionLayout>? MemoryRegions { get; set; }

    /// <summary>
    /// Guest range from which rings and buffers are allocated (default: the whole first region).
    /// Leave fixed ring layouts (bench/WORKLOAD.md) outside it.
    /// </summary>
    public GuestRange? AllocatorArea { get; set; }

    /// <summary>Set NEED_REPLY on requests without a reply of their own once REPLY_ACK is negotiated, and fail on a non-zero ack (default <see langword="true"/>; QEMU 7.2 sets it only on SET_MEM_TABLE).</summary>
    public bool RequestAcks { get; set; } = true;

    /// <summary>After a SET_VRING_ENABLE without an ack, do a GET_FEATURES round trip before going on, so the enable is processed before the first kick (VHOST-USER.md §12.4; default <see langword="true"/>).</summary>
    public bool SynchronizeAfterEnable { get; set; } = true;

    /// <summary>Record every message sent and received in <see cref="VhostUserFrontendClient.Transcript"/> (default <see langword="false"/>).</summary>
    public bool RecordTranscript { get; set; }
}
