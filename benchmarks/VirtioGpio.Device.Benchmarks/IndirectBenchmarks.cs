// SPDX-License-Identifier: MIT
using BenchmarkDotNet.Attributes;

namespace VirtioGpio.Device.Benchmarks;

/// <summary><c>indirect</c>: each request one INDIRECT descriptor pointing at a 2-entry table.</summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
[BenchmarkCategory("indirect")]
public class IndirectBenchmarks
{
    private QueueWorkload _workload = null!;

    [GlobalSetup]
    public void Setup()
    {
        _workload = new QueueWorkload(WorkloadShape.Indirect);
        _workload.RunAndVerifyOnce();
        _workload.RunAndVerifyOnce();
    }

    [Benchmark(OperationsPerInvoke = QueueWorkload.Batch)]
    public void Indirect() => _workload.RunIteration();

    [GlobalCleanup]
    public void Cleanup() => _workload.RunAndVerifyOnce();
}
