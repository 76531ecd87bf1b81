// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Benchmarks;

/// <summary>The WORKLOAD.md variants measured on the queue engine.</summary>
public enum WorkloadShape
{
    /// <summary><c>engine</c>: 128 two-descriptor chains; pop, read request, write response, add used.</summary>
    Engine,

    /// <summary><c>event-idx</c>: as <see cref="Engine"/> with VIRTIO_F_EVENT_IDX; one "needs notification" per batch.</summary>
    EventIdx,

    /// <summary><c>indirect</c>: each request one INDIRECT descriptor pointing at a 2-entry table.</summary>
    Indirect,

    /// <summary><c>long-chain</c>: one chain of 128 descriptors (127 requests + one response buffer).</summary>
    LongChain,
}
