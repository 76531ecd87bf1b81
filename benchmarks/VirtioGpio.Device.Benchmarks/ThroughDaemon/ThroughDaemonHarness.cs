// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace VirtioGpio.Device.Benchmarks.ThroughDaemon;

/// <summary>
/// A small harness for the <c>through-daemon</c> figures that BenchmarkDotNet does not give:
/// median ns per chain over rounds of 128-chain batches, allocated bytes per chain, and the
/// single-request round-trip latency distribution (p50, p99, p99.9).
/// <c>through-daemon [--socket PATH] [--rounds N] [--batches-per-round N] [--samples N]</c>.
/// </summary>
public static class ThroughDaemonHarness
{
    /// <summary>Runs the harness and prints the figures.</summary>
    /// <param name="args">The options.</param>
    /// <returns>0 on success, 2 for bad arguments.</returns>
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? socket = null;
        int rounds = 15;
        int batchesPerRound = 2000;
        int samples = 50_000;
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : string.Empty;
            switch (args[i])
            {
                case "--socket": socket = value; i++; break;
                case "--rounds": rounds = int.Parse(value, CultureInfo.InvariantCulture); i++; break;
                case "--batches-per-round": batchesPerRound = int.Parse(value, CultureInfo.InvariantCulture); i++; break;
                case "--samples": samples = int.Parse(value, CultureInfo.InvariantCulture); i++; break;
                default:
                    Console.Error.WriteLine($"unknown argument {args[i]}; usage: through-daemon [--socket PATH] [--rounds N] [--batches-per-round N] [--samples N]");
                    return 2;
            }
        }

        using ThroughDaemonSession session = ThroughDaemonSession.Start(socket);
        Console.WriteLine($"# through-daemon: back-end {(session.InProcess ? "in-process VhostUserBackendServer" : session.SocketPath)}, ngpio {session.LineCount}");
        Console.WriteLine($"# {Environment.ProcessorCount} cores, {RuntimeInformation.ProcessArchitecture}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");

        session.RunAndVerifyBatch();
        for (int i = 0; i < batchesPerRound; i++)
        {
            session.RunBatch(); // warm-up (tiering)
        }

        var perChain = new double[rounds];
        long allocated = 0;
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        TimeSpan cpuBefore = self.TotalProcessorTime;
        for (int r = 0; r < rounds; r++)
        {
            long bytesBefore = GC.GetTotalAllocatedBytes(precise: true);
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < batchesPerRound; i++)
            {
                session.RunBatch();
            }

            long elapsed = Stopwatch.GetTimestamp() - start;
            allocated += GC.GetTotalAllocatedBytes(precise: true) - bytesBefore;
            perChain[r] = elapsed * 1e9 / Stopwatch.Frequency / ((double)batchesPerRound * ThroughDaemonSession.Batch);
            session.RunAndVerifyBatch();
        }

        self.Refresh();
        double cpuNanoseconds = (self.TotalProcessorTime - cpuBefore).TotalMilliseconds * 1e6;
        Array.Sort(perChain);
        double chains = (double)rounds * batchesPerRound * ThroughDaemonSession.Batch;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch128: median {perChain[rounds / 2]:F1} ns/chain wall (min {perChain[0]:F1}, max {perChain[^1]:F1}) over {rounds} rounds x {batchesPerRound} batches; {allocated / chains:F3} B allocated/chain (whole process)"));
        // CPU time is less sensitive to a loaded machine than wall time; in-process it covers front-end and back-end threads, otherwise the front-end only.
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch128: {cpuNanoseconds / (chains + ((double)rounds * ThroughDaemonSession.Batch)):F1} ns/chain CPU time of this process ({(session.InProcess ? "front-end + back-end" : "front-end only")})"));

        for (int i = 0; i < Math.Min(samples, 5000); i++)
        {
            session.RoundTrip(); // warm-up
        }

        var latency = new double[samples];
        for (int i = 0; i < samples; i++)
        {
            long start = Stopwatch.GetTimestamp();
            session.RoundTrip();
            latency[i] = (Stopwatch.GetTimestamp() - start) * 1e6 / Stopwatch.Frequency;
        }

        session.RunAndVerifyBatch();
        Array.Sort(latency);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"single request round trip: p50 {Percentile(latency, 0.50):F2} us, p99 {Percentile(latency, 0.99):F2} us, p99.9 {Percentile(latency, 0.999):F2} us, mean {latency.Average():F2} us over {samples} samples"));
        return 0;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
