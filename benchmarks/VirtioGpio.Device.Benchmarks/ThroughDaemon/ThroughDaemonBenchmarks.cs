// SPDX-License-Identifier: MIT
using BenchmarkDotNet.Attributes;

namespace VirtioGpio.Device.Benchmarks.ThroughDaemon;

/// <summary>
/// WORKLOAD.md <c>through-daemon</c> under BenchmarkDotNet: <see cref="Batch128"/> is ns per chain
/// of a 128-chain batch through the socket, <see cref="SingleRequest"/> the mean round trip of one
/// request. Set <c>VIRTIOGPIO_BENCH_SOCKET</c> to measure another back-end instead of the
/// in-process one. Percentiles (p50/p99) come from <see cref="ThroughDaemonHarness"/>.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("through-daemon")]
public class ThroughDaemonBenchmarks
{
    private ThroughDaemonSession _session = null!;

    [GlobalSetup]
    public void Setup()
    {
        _session = ThroughDaemonSession.Start(Environment.GetEnvironmentVariable("VIRTIOGPIO_BENCH_SOCKET"));
        _session.RunAndVerifyBatch();
        _session.RunAndVerifyBatch();
    }

    [Benchmark(OperationsPerInvoke = ThroughDaemonSession.Batch)]
    public void Batch128() => _session.RunBatch();

    [Benchmark]
    public void SingleRequest() => _session.RoundTrip();

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.RunAndVerifyBatch();
        _session.Dispose();
    }
}
