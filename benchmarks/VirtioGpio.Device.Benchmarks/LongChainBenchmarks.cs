// SPDX-License-Identifier: MIT
using BenchmarkDotNet.Attributes;

namespace VirtioGpio.Device.Benchmarks;

/// <summary><c>long-chain</c>: one chain of 128 descriptors per iteration; reported per descriptor.</summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
[BenchmarkCategory("long-chain")]
public class LongChainBenchmarks
{
    private QueueWorkload _workload = null!;

    [GlobalSetup]
    public void Setup()
    {
        _workload = new QueueWorkload(WorkloadShape.LongChain);
        _workload.RunAndVerifyOnce();
        _workload.RunAndVerifyOnce();
    }

    [Benchmark(OperationsPerInvoke = QueueWorkload.Batch)]
    public void LongChain() => _workload.RunIteration();

    [GlobalCleanup]
    public void Cleanup() => _workload.RunAndVerifyOnce();
}
