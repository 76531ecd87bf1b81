// SPDX-License-Identifier: MIT
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace VirtioGpio.Device.Benchmarks;

/// <summary>
/// Entry point (BenchmarkSwitcher). Examples, from the repository root:
/// <c>dotnet run -c Release --project benchmarks/VirtioGpio.Device.Benchmarks -- --filter '*'</c>,
/// <c>-- --filter '*Engine*'</c>, a quick smoke run with <c>-- --filter '*' --job dry</c>, or the
/// through-daemon latency harness with <c>-- through-daemon [--socket PATH]</c>.
/// The workload is the shared WORKLOAD.md shape; see docs/benchmarks.md.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        // `-- through-daemon [--socket PATH]`: single-request round-trip percentiles (p50/p99) and
        // 128-chain batches through a vhost-user back-end, measured by a plain harness.
        if (args.Length > 0 && args[0] == "through-daemon")
        {
            Environment.Exit(ThroughDaemon.ThroughDaemonHarness.Run(args[1..]));
        }

        // BenchmarkDotNet rebuilds the project for each job; on a busy CI machine that can take longer
        // than its 2-minute default, which fails every benchmark with a build timeout.
        IConfig config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(15));
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
