// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace VirtioGpio.IntegrationTests.Infrastructure;

/// <summary>
/// Boots the test guest once under QEMU (TCG) against a vhost-user socket and runs one script from
/// <c>GuestScripts/</c> as <c>/test.sh</c>. The serial console is QEMU's stdio: the guest prints
/// <c>VGPIO-*</c> markers (scripts/guest/init.sh); on <c>VGPIO-SYNC name</c> the host runs its step and answers
/// <c>name</c> on the console. Every boot has a host-side limit: on a hang QEMU is killed and the failure carries
/// the serial log. Logs are also written to <c>guest-logs/</c> next to the test assembly.
/// </summary>
public static partial class QemuGuest
{
    private static int s_bootNumber;

    [GeneratedRegex(@"\x1B\[[0-9;?]*[A-Za-z]|\x1B[c78]")]
    private static partial Regex EscapeSequence();

    /// <summary>The QEMU command line for a boot (documented in docs/guest-testing.md).</summary>
    public static IReadOnlyList<string> BuildArguments(GuestEnvironment env, GuestTransport transport, string socketPath, string initrd, int guestWatchdogSeconds,
        string? extraKernelArguments = null)
    {
        string append = $"console=ttyS0 panic=-1 oops=panic quiet vgpio.timeout={guestWatchdogSeconds}";
        var args = new List<string>
        {
            "-accel", "tcg", "-smp", "1", "-m", "256M",
            "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
            "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio", "-no-reboot",
            "-kernel", env.Kernel, "-initrd", initrd,
            "-chardev", $"socket,id=vgpio,path={socketPath}",
        };
        if (transport == GuestTransport.Pci)
        {
            // reboot=t: the guest resets by triple fault, which QEMU (-no-reboot) turns into an exit at once.
            append += " reboot=t";
            args.AddRange(["-machine", "q35,memory-backend=mem", "-device", "vhost-user-gpio-pci,chardev=vgpio"]);
        }
        else
        {
            // microvm has no HPET or PM timer: the guest's PIT calibration of the TSC fails on a loaded host and the
            // boot hangs. Under TCG the guest TSC runs at the host's rate, so pass that in.
            append += $" tsc_early_khz={HostTscKhz()} tsc=reliable";
            args.AddRange(["-machine", "microvm,acpi=on,rtc=on,memory-backend=mem", "-global", "virtio-mmio.force-legacy=false",
                "-device", "vhost-user-gpio-device,chardev=vgpio"]);
        }

        if (!string.IsNullOrWhiteSpace(extraKernelArguments))
        {
            append += " " + extraKernelArguments.Trim();
        }

        args.AddRange(["-append", append]);
        return args;
    }

    private static long HostTscKhz()
    {
        string? over = Environment.GetEnvironmentVariable("VIRTIOGPIO_TSC_KHZ");
        if (long.TryParse(over, NumberStyles.None, CultureInfo.InvariantCulture, out long k) && k > 0)
        {
            return k;
        }

        foreach (string line in File.ReadLines("/proc/cpuinfo"))
        {
            if (line.StartsWith("cpu MHz", StringComparison.Ordinal)
                && double.TryParse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double mhz))
            {
                return (long)(mhz * 1000);
            }
        }

        return 2_000_000;
    }

    /// <summary>
    /// Boots, runs <c>GuestScripts/<paramref name="script"/></c> with <paramref name="variables"/> prepended as shell
    /// assignments, answers each <c>VGPIO-SYNC</c> after <paramref name="onSync"/> completed, and returns when QEMU
    /// exits. Throws (with the serial log) on a host-side timeout, a failed host step, or a guest watchdog.
    /// </summary>
    public static async Task<GuestRunResult> BootAsync(GuestTransport transport, string socketPath, string script,
        IReadOnlyDictionary<string, string>? variables, Func<string, Task> onSync, Action<string>? output = null)
    {
        var body = new StringBuilder();
        foreach ((string k, string v) in variables ?? new Dictionary<string, string>())
        {
            body.Append(k).Append("='").Append(v.Replace("'", "'\\''", StringComparison.Ordinal)).Append("'\n");
        }

        string scripts = Path.Combine(GuestEnvironment.BaseDirectory, "GuestScripts");
        body.Append(await File.ReadAllTextAsync(Path.Combine(scripts, "common.sh")).ConfigureAwait(false));
        body.Append(await File.ReadAllTextAsync(Path.Combine(scripts, script)).ConfigureAwait(false));
        return await BootScriptAsync(transport, socketPath, Path.GetFileNameWithoutExtension(script), body.ToString(), null, onSync, output).ConfigureAwait(false);
    }

    /// <summary>
    /// Boots with <paramref name="scriptText"/> as <c>/test.sh</c> (a complete script; nothing is prepended) and
    /// <paramref name="extraKernelArguments"/> appended to the kernel command line; otherwise as
    /// <see cref="BootAsync"/>. <paramref name="name"/> names the serial log file.
    /// </summary>
    public static async Task<GuestRunResult> BootScriptAsync(GuestTransport transport, string socketPath, string name, string scriptText,
        string? extraKernelArguments, Func<string, Task> onSync, Action<string>? output = null)
    {
        GuestEnvironment env = GuestEnvironment.Current;
        if (env.MissingReason is { } missing)
        {
            throw new InvalidOperationException("real-guest artifacts missing: " + missing);
        }

        TimeSpan timeout = GuestEnvironment.BootTimeout;
        int watchdog = Math.Max(30, (int)timeout.TotalSeconds - 20);
        int number = Interlocked.Increment(ref s_bootNumber);
        string work = Directory.CreateTempSubdirectory("vgpio-boot-").FullName;
        string logDir = Path.Combine(GuestEnvironment.BaseDirectory, "guest-logs");
        Directory.CreateDirectory(logDir);
        string logFile = Path.Combine(logDir, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{number:00}-{transport.ToString().ToLowerInvariant()}-{name}.log");

        var serial = new StringBuilder();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var info = new List<string>();
        int? endCode = null;
        Exception? hostStepFailure = null;
        bool watchdogFired = false;
        var sw = Stopwatch.StartNew();
        using var process = new Process();
        try
        {
            // initramfs = base archive (padded to 4 bytes) + a second cpio with /test.sh.
            string initrd = Path.Combine(work, "initrd");
            byte[] baseImage = await File.ReadAllBytesAsync(env.Initrd).ConfigureAwait(false);
            await using (FileStream fs = File.Create(initrd))
            {
                await fs.WriteAsync(baseImage).ConfigureAwait(false);
                await fs.WriteAsync(new byte[(4 - (baseImage.Length % 4)) % 4]).ConfigureAwait(false);
                await fs.WriteAsync(CpioNewc.Build([("test.sh", Encoding.UTF8.GetBytes(scriptText))])).ConfigureAwait(false);
            }

            var psi = new ProcessStartInfo(env.Qemu)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string a in BuildArguments(env, transport, socketPath, initrd, watchdog, extraKernelArguments))
            {
                psi.ArgumentList.Add(a);
            }

            string commandLine = env.Qemu + " " + string.Join(' ', psi.ArgumentList.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
            lock (serial)
            {
                serial.AppendLine("$ " + commandLine);
            }

            process.StartInfo = psi;
            process.Start();
            Task stderrPump = Task.Run(async () =>
            {
                while (await process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
                {
                    lock (serial)
                    {
                        serial.AppendLine("[qemu stderr] " + line);
                    }
                }
            });

            using var deadline = new CancellationTokenSource(timeout);
            Task stdoutPump = Task.Run(async () =>
            {
                while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } raw)
                {
                    string line = EscapeSequence().Replace(raw, "").TrimEnd();
                    if (line.Length == 0)
                    {
                        continue;
                    }

                    lock (serial)
                    {
                        serial.AppendLine(line);
                    }

                    output?.Invoke(line);
                    int at = line.IndexOf("VGPIO-", StringComparison.Ordinal);
                    if (at < 0)
                    {
                        continue;
                    }

                    string marker = line[at..];
                    if (marker.StartsWith("VGPIO-KV ", StringComparison.Ordinal))
                    {
                        string kv = marker["VGPIO-KV ".Length..];
                        int eq = kv.IndexOf('=', StringComparison.Ordinal);
                        if (eq > 0)
                        {
                            string key = kv[..eq];
                            string val = kv[(eq + 1)..];
                            values[key] = values.TryGetValue(key, out string? prev) ? prev + "|" + val : val;
                        }
                    }
                    else if (marker.StartsWith("VGPIO-INFO ", StringComparison.Ordinal))
                    {
                        info.Add(marker["VGPIO-INFO ".Length..]);
                    }
                    else if (marker.StartsWith("VGPIO-END rc=", StringComparison.Ordinal)
                        && int.TryParse(marker["VGPIO-END rc=".Length..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int rc))
                    {
                        endCode = rc;
                    }
                    else if (marker.StartsWith("VGPIO-WATCHDOG", StringComparison.Ordinal))
                    {
                        watchdogFired = true;
                    }
                    else if (marker.StartsWith("VGPIO-SYNC ", StringComparison.Ordinal) && hostStepFailure is null)
                    {
                        string name = marker["VGPIO-SYNC ".Length..].Trim();
                        try
                        {
                            await onSync(name).ConfigureAwait(false);
                            lock (serial)
                            {
                                serial.AppendLine($"[host] step '{name}' done ({sw.Elapsed.TotalSeconds:0.0} s)");
                            }

                            await process.StandardInput.WriteAsync(name + "\n").ConfigureAwait(false);
                            await process.StandardInput.FlushAsync().ConfigureAwait(false);
                        }
                        catch (Exception e)
                        {
                            hostStepFailure = new InvalidOperationException($"host step '{name}' failed: {e.Message}", e);
                            lock (serial)
                            {
                                serial.AppendLine($"[host] step '{name}' FAILED: {e.Message}");
                            }

                            try
                            {
                                process.Kill(entireProcessTree: true);
                            }
                            catch (InvalidOperationException)
                            {
                            }
                        }
                    }
                }
            });

            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().ConfigureAwait(false);
                await Task.WhenAll(stdoutPump, stderrPump).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                throw new TimeoutException(
                    $"{transport} guest did not finish within {timeout.TotalSeconds:0} s (host-side timeout: QEMU killed; guest watchdog {watchdog} s{(watchdogFired ? " fired" : "")}). Log: {logFile}\n--- serial log ---\n{Snapshot(serial)}");
            }

            await Task.WhenAll(stdoutPump, stderrPump).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            if (hostStepFailure is not null)
            {
                throw new Xunit.Sdk.XunitException($"{transport}: {hostStepFailure.Message}\nLog: {logFile}\n--- serial log ---\n{Snapshot(serial)}", hostStepFailure);
            }

            if (watchdogFired)
            {
                throw new Xunit.Sdk.XunitException($"{transport}: the guest watchdog fired ({watchdog} s): the guest hung. Log: {logFile}\n--- serial log ---\n{Snapshot(serial)}");
            }

            return new GuestRunResult(Snapshot(serial), values, info, endCode, process.ExitCode, sw.Elapsed);
        }
        finally
        {
            lock (serial)
            {
                serial.AppendLine($"[host] boot finished after {sw.Elapsed.TotalSeconds:0.0} s");
            }

            await File.WriteAllTextAsync(logFile, Snapshot(serial)).ConfigureAwait(false);
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static string Snapshot(StringBuilder sb)
    {
        lock (sb)
        {
            return sb.ToString();
        }
    }
}
