// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>
/// The <c>virtio-gpio</c> daemon (src/VirtioGpio.Daemon, copied next to the tests) as a separate
/// process, with its JSON-lines control socket for driving input lines.
/// </summary>
internal sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private DaemonProcess(Process process, string socketPath, string controlPath)
    {
        _process = process;
        SocketPath = socketPath;
        ControlPath = controlPath;
    }

    public string SocketPath { get; }

    public string ControlPath { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static DaemonProcess Start(string socketPath, string controlPath, int lines)
    {
        string apphost = Path.Combine(AppContext.BaseDirectory, "virtio-gpio");
        var info = File.Exists(apphost)
            ? new ProcessStartInfo(apphost)
            : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "virtio-gpio.dll") } };
        foreach (string arg in new[] { "--socket", socketPath, "--lines", lines.ToString(System.Globalization.CultureInfo.InvariantCulture), "--control", controlPath, "--log-level", "warning" })
        {
            info.ArgumentList.Add(arg);
        }

        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        var process = new Process { StartInfo = info };
        var daemon = new DaemonProcess(process, socketPath, controlPath);
        process.OutputDataReceived += (_, e) => daemon.Append(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return daemon;
    }

    /// <summary>Sends one control command and returns the response line.</summary>
    public string Control(string json)
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            Assert.False(_process.HasExited, $"the daemon exited: {Output}");
            try
            {
                using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                socket.ReceiveTimeout = 5000;
                socket.Connect(new UnixDomainSocketEndPoint(ControlPath));
                using var stream = new NetworkStream(socket);
                using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
                using var reader = new StreamReader(stream, Encoding.UTF8);
                writer.WriteLine(json);
                return reader.ReadLine() ?? string.Empty;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>SIGKILL: the back-end dies without any cleanup.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        Assert.True(_process.WaitForExit(10_000), "the daemon did not die");
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
