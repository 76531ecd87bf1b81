// SPDX-License-Identifier: MIT
using BenchmarkDotNet.Attributes;

namespace VirtioGpio.Device.Benchmarks;

/// <summary><c>event-idx</c>: VIRTIO_F_EVENT_IDX negotiated, the driver writes used_event, one NeedsNotification per batch.</summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
[BenchmarkCategory("event-idx")]
public class EventIdxBenchmarks
{
    private QueueWorkload _workload = null!;

    [GlobalSetup]
    public void Setup()
    {
        _workload = new QueueWorkload(WorkloadShape.EventIdx);
        _workload.RunAndVerifyOnce();
        _workload.RunAndVerifyOnce();
    }

    [Benchmark(OperationsPerInvoke = QueueWorkload.Batch)]
    public void EventIdx() => _workload.RunIteration();

    [GlobalCleanup]
    public void Cleanup() => _workload.RunAndVerifyOnce();
}
