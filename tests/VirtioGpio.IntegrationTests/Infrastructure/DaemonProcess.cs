// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace VirtioGpio.IntegrationTests.Infrastructure;

/// <summary>
/// The real <c>virtio-gpio</c> daemon, started as a separate process (<c>dotnet virtio-gpio.dll</c>, copied next to
/// the tests by the project reference) with a temporary vhost-user socket, control socket and VCD trace.
/// </summary>
public sealed class DaemonProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly string _directory;

    private DaemonProcess(Process process, string directory, string socketPath, string controlPath, string tracePath)
    {
        _process = process;
        _directory = directory;
        SocketPath = socketPath;
        ControlPath = controlPath;
        TracePath = tracePath;
    }

    public string SocketPath { get; }
    public string ControlPath { get; }
    public string TracePath { get; }

    /// <summary>Everything the daemon wrote to stdout and stderr so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts the daemon and waits until its vhost-user and control sockets exist.</summary>
    public static async Task<DaemonProcess> StartAsync(string names, TimeSpan timeout, params string[] extraArguments)
    {
        string dir = Directory.CreateTempSubdirectory("vgpio-guest-").FullName;
        string socket = Path.Combine(dir, "vgpio.sock");
        string control = Path.Combine(dir, "vgpio.ctl");
        string trace = Path.Combine(dir, "trace.vcd");

        var psi = new ProcessStartInfo
        {
            FileName = DotnetHost(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        string baseDir = GuestEnvironment.BaseDirectory;
        string dll = Path.Combine(baseDir, "virtio-gpio.dll");
        if (File.Exists(Path.Combine(baseDir, "virtio-gpio.runtimeconfig.json")))
        {
            psi.ArgumentList.Add(dll);
        }
        else
        {
            // The exe's own runtimeconfig was not copied: run it with the test assembly's (same framework, and its
            // deps file lists the daemon's dependencies through the project reference).
            string self = Path.Combine(baseDir, typeof(DaemonProcess).Assembly.GetName().Name!);
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add("--runtimeconfig");
            psi.ArgumentList.Add(self + ".runtimeconfig.json");
            psi.ArgumentList.Add("--depsfile");
            psi.ArgumentList.Add(self + ".deps.json");
            psi.ArgumentList.Add(dll);
        }

        foreach (string a in new[] { "--socket", socket, "--names", names, "--control", control, "--trace", trace, "--log-level", "debug" }.Concat(extraArguments))
        {
            psi.ArgumentList.Add(a);
        }

        // For experiments and for checking that the tests fail when they should (e.g. "--no-irq").
        string? extra = Environment.GetEnvironmentVariable("VIRTIOGPIO_DAEMON_EXTRA_ARGS");
        foreach (string a in (extra ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            psi.ArgumentList.Add(a);
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var daemon = new DaemonProcess(process, dir, socket, control, trace);
        process.OutputDataReceived += (_, e) => daemon.Append(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Append(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException("could not start the daemon: " + psi.FileName);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        daemon.Append("$ " + psi.FileName + " " + string.Join(' ', psi.ArgumentList));

        var sw = Stopwatch.StartNew();
        while (!(File.Exists(socket) && File.Exists(control)))
        {
            if (process.HasExited)
            {
                string log = daemon.Log;
                await daemon.DisposeAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"the daemon exited with code {process.ExitCode} before creating its sockets:\n{log}");
            }

            if (sw.Elapsed > timeout)
            {
                string log = daemon.Log;
                await daemon.DisposeAsync().ConfigureAwait(false);
                throw new TimeoutException($"the daemon did not create {socket} and {control} within {timeout.TotalSeconds:0} s:\n{log}");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        return daemon;
    }

    /// <summary>True while the daemon runs.</summary>
    public bool IsRunning => !_process.HasExited;

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        return "dotnet";
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    /// <summary>Sends SIGTERM and waits for a clean exit (SIGKILL after 10 s). Returns the exit code, or null if killed.</summary>
    public async Task<int?> StopAsync()
    {
        if (_process.HasExited)
        {
            return _process.ExitCode;
        }

        _ = SysKill(_process.Id, 15);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
