// SPDX-License-Identifier: MIT
using BenchmarkDotNet.Attributes;

namespace VirtioGpio.Device.Benchmarks;

/// <summary>
/// Queue-engine variants of WORKLOAD.md. One benchmark invocation is one iteration of the
/// workload (128 chains, or one 128-descriptor chain), so with <c>OperationsPerInvoke = 128</c>
/// the reported time is ns per chain (per descriptor for <c>long-chain</c>). Each class checks
/// every response and used entry once in <c>[GlobalSetup]</c>, outside the timed region.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
[BenchmarkCategory("engine")]
public class EngineBenchmarks
{
    private QueueWorkload _workload = null!;

    [GlobalSetup(Target = nameof(Engine))]
    public void Setup() => _workload = CreateVerified(ChainAccess.TypedCopy);

    [GlobalSetup(Target = nameof(EngineReaderWriter))]
    public void SetupReaderWriter() => _workload = CreateVerified(ChainAccess.ReaderWriter);

    /// <summary><c>engine</c>: request and response through the chain's fixed-size copies (what the device does).</summary>
    [Benchmark(OperationsPerInvoke = QueueWorkload.Batch)]
    public void Engine() => _workload.RunIteration();

    /// <summary><c>engine</c> through the general <c>DescriptorChainReader</c> / <c>DescriptorChainWriter</c>.</summary>
    [Benchmark(OperationsPerInvoke = QueueWorkload.Batch)]
    public void EngineReaderWriter() => _workload.RunIteration();

    [GlobalCleanup]
    public void Cleanup() => _workload.RunAndVerifyOnce();

    private static QueueWorkload CreateVerified(ChainAccess access)
    {
        var workload = new QueueWorkload(WorkloadShape.Engine, access);
        workload.RunAndVerifyOnce();
        workload.RunAndVerifyOnce(); // second round: ring indices have moved, slots reused
        return workload;
    }
}
