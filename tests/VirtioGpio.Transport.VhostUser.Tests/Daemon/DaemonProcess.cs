// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace VirtioGpio.Transport.VhostUser.Tests.Daemon;

/// <summary>
/// The real <c>virtio-gpio</c> daemon as a child process (<c>dotnet virtio-gpio.dll …</c>, copied next to the test
/// assembly by the project reference). Every wait has a timeout; <see cref="Dispose"/> kills the process.
/// </summary>
internal sealed partial class DaemonProcess : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DaemonProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string StandardOutput
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static string DaemonDll
    {
        get
        {
            string path = Path.Combine(AppContext.BaseDirectory, "virtio-gpio.dll");
            Assert.True(File.Exists(path), $"virtio-gpio.dll not found next to the tests: {path}");
            return path;
        }
    }

    public static DaemonProcess Start(params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

        // A job started in the background by a non-interactive shell (`.ci/run &`, nohup) inherits SIGINT and SIGQUIT
        // as ignored, and a process keeps an ignored disposition across exec: the daemon, like any Unix program, then
        // never sees SIGINT (docs/daemon.md). The tests exercise the daemon's own SIGINT handling, so they start it the
        // way an interactive shell would, with both back at their defaults (coreutils env, Debian 12: 9.1).
        var info = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--default-signal=INT,QUIT");
        info.ArgumentList.Add(dotnet);
        info.ArgumentList.Add(DaemonDll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var daemon = new DaemonProcess(process);
        process.OutputDataReceived += (_, e) => daemon.Append(daemon._stdout, daemon._stdoutClosed, e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Append(daemon._stderr, daemon._stderrClosed, e.Data);
        Assert.True(process.Start(), "could not start the daemon");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return daemon;
    }

    /// <summary>Runs the daemon to completion.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using DaemonProcess daemon = Start(args);
        int code = await daemon.WaitForExitAsync(DefaultTimeout);
        return (code, daemon.StandardOutput, daemon.StandardError);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the daemon did not exit within {timeout}. stderr:\n{StandardError}");
        }

        return _process.ExitCode;
    }

    /// <summary>Waits until every path is a socket accepting connections... without connecting (a probe connection would count as a front-end).</summary>
    public async Task WaitForSocketsAsync(params string[] paths)
    {
        using var cts = new CancellationTokenSource(DefaultTimeout);
        foreach (string path in paths)
        {
            while (!IsSocketFile(path))
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"the daemon exited with {_process.ExitCode} before creating {path}. stderr:\n{StandardError}");
                }

                try
                {
                    await Task.Delay(20, cts.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException($"{path} did not appear within {DefaultTimeout}. stderr:\n{StandardError}");
                }
            }
        }

        // "listening on" is logged once the sockets exist; wait for it so the daemon is fully started.
        await WaitForStderrAsync("listening on " + paths[^1]);
    }

    public async Task WaitForStderrAsync(string fragment)
    {
        using var cts = new CancellationTokenSource(DefaultTimeout);
        while (!StandardError.Contains(fragment, StringComparison.Ordinal))
        {
            if (_process.HasExited && _stderrClosed.Task.IsCompleted && !StandardError.Contains(fragment, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"the daemon exited ({_process.ExitCode}) without logging \"{fragment}\". stderr:\n{StandardError}");
            }

            try
            {
                await Task.Delay(20, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"\"{fragment}\" was not logged within {DefaultTimeout}. stderr:\n{StandardError}");
            }
        }
    }

    public void Signal(int signal)
    {
        Assert.Equal(0, Kill(_process.Id, signal));
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }

        _process.Dispose();
    }

    /// <summary>Whether <paramref name="path"/> is a socket file (open() of a socket fails with ENXIO).</summary>
    public static bool IsSocketFile(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>A listening socket the test owns, to play "a live process serves this path".</summary>
    public static Socket Listen(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen(4);
        return socket;
    }

    private void Append(StringBuilder sb, TaskCompletionSource closed, string? data)
    {
        if (data is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (sb)
        {
            sb.Append(data).Append('\n');
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
