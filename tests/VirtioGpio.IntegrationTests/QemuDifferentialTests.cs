// SPDX-License-Identifier: MIT
using System.Diagnostics;
using VirtioGpio.IntegrationTests.Differential;
using VirtioGpio.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace VirtioGpio.IntegrationTests;

/// <summary>
/// Differential tests against QEMU's own transports. One boot per transport: the guest leaves the device unclaimed
/// (no virtio_pci / virtio_mmio / gpio-virtio), replays every register script of <c>Differential/Scripts</c> against
/// QEMU's virtio-mmio or virtio-pci transport in front of the real daemon (devmem, sysfs config space) and prints
/// every value read. The same scripts then run against OUR transport in-process; every value must be equal or be a
/// known, explained difference (<see cref="KnownQemuDifferences"/>). The edge-case scripts feed QEMU (and through it
/// the daemon) bad input: the daemon must still be alive and serving afterwards.
/// </summary>
[Collection(RealGuestCollection.Name)]
[Trait("Category", "RequiresQemu")]
public sealed class QemuDifferentialTests
{
    private readonly GuestFixture _fixture;
    private readonly ITestOutputHelper _output;

    public QemuDifferentialTests(GuestFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    [RequiresGuestTheory]
    [InlineData(GuestTransport.Mmio)]
    [InlineData(GuestTransport.Pci)]
    public async Task Every_register_script_reads_the_same_from_QEMUs_transport_and_ours(GuestTransport transport)
    {
        _output.WriteLine(_fixture.Describe());
        IReadOnlyList<RegisterScript> scripts = RegisterScript.LoadAll(transport);
        Assert.NotEmpty(scripts);
        await using DaemonProcess daemon = await DaemonProcess.StartAsync(QemuMatchingOptions.LineNames, GuestEnvironment.StepTimeout);
        await using ControlClient control = await ControlClient.ConnectAsync(daemon.ControlPath);
        await control.SubscribeAsync();
        var runs = new List<GuestRunResult>();
        await GuestFailure.WithContextAsync(daemon, control, () => runs, async () =>
        {
            await control.SetAsync(QemuMatchingOptions.HighInputLine, 1);
            string guestScript = GuestShellWriter.Write(transport, scripts);
            GuestRunResult r = await QemuGuest.BootScriptAsync(transport, daemon.SocketPath, "differential", guestScript,
                DifferentialLayout.KernelArguments, step => throw new InvalidOperationException("unexpected guest step " + step), null);
            runs.Add(r);
            _output.WriteLine($"{DifferentialLayout.Describe(transport)} boot: {r.Elapsed.TotalSeconds:0.0} s");
            foreach ((string k, string v) in r.Values.Where(kv => kv.Key.StartsWith("dinfo:", StringComparison.Ordinal)))
            {
                _output.WriteLine($"guest {k["dinfo:".Length..]} = {v}");
            }

            Assert.False(r.Values.ContainsKey("derror"), "guest prelude failed: " + r.Values.GetValueOrDefault("derror") + "\n" + r.SerialLog);
            Assert.Equal("yes", r.Value("dinfo:finished"));
            Assert.Equal(0, r.EndCode);

            // Bad input through QEMU never crashes the daemon: it is alive, answers the control socket, and served the
            // last script's requests (compared below).
            Assert.True(daemon.IsRunning, "the daemon exited during the differential boot");
            Assert.Equal(8, (await control.ListAsync()).Count);
            string[] complaints = daemon.Log.Split('\n')
                .Where(l => l.Contains(" warn: ", StringComparison.Ordinal) || l.Contains(" fail: ", StringComparison.Ordinal) || l.Contains(" crit: ", StringComparison.Ordinal))
                .ToArray();
            _output.WriteLine($"daemon warnings/errors during the boot ({complaints.Length}):\n  " + string.Join("\n  ", complaints.Take(40)));
            Assert.DoesNotContain(complaints, l => l.Contains(" crit: ", StringComparison.Ordinal));
            Assert.DoesNotContain("Unhandled exception", daemon.Log, StringComparison.Ordinal);

            // The bad-queue scripts' parameters really reached the back-end through QEMU, and it refused them.
            Assert.Contains(complaints, l => l.Contains("SetVringNum: ring 0 size 3 is not a power of two", StringComparison.Ordinal));
            Assert.Contains(complaints, l => l.Contains("SetVringAddr: ring 0:", StringComparison.Ordinal) && l.Contains("not inside one memory region", StringComparison.Ordinal));

            var sw = Stopwatch.StartNew();
            using TransportReplayer ours = QemuMatchingOptions.CreateReplayer(transport);
            foreach (RegisterScript script in scripts)
            {
                ours.Run(script);
            }

            var qemu = r.Values.Where(kv => kv.Key.StartsWith(GuestShellWriter.ValuePrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[GuestShellWriter.ValuePrefix.Length..], kv => kv.Value, StringComparer.Ordinal);
            DifferentialComparison cmp = DifferentialComparison.Compare(scripts, qemu, ours.Results, KnownQemuDifferences.For(transport));
            _output.WriteLine($"in-process replay: {sw.Elapsed.TotalMilliseconds:0} ms; {scripts.Count} scripts, {cmp.Compared} values: " +
                $"{cmp.Equal} equal, {cmp.KnownDifferences} known differences, {cmp.Failures.Count} failures");
            _output.WriteLine(cmp.Table);
            string tableFile = Path.Combine(GuestEnvironment.BaseDirectory, "guest-logs", $"differential-{transport.ToString().ToLowerInvariant()}.txt");
            await File.WriteAllTextAsync(tableFile, cmp.Table + (cmp.Failures.Count == 0 ? "" : "\nFAILURES\n" + string.Join('\n', cmp.Failures) + "\n"));
            Assert.True(cmp.Failures.Count == 0,
                $"{cmp.Failures.Count} differential failure(s) on {DifferentialLayout.Describe(transport)}:\n  " + string.Join("\n  ", cmp.Failures));

            Assert.Equal(0, await daemon.StopAsync());
        });
    }
}
