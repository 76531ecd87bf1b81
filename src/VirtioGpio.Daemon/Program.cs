// SPDX-License-Identifier: MIT
using VirtioGpio.Daemon.Cli;
using VirtioGpio.Daemon.Hosting;

namespace VirtioGpio.Daemon;

/// <summary>Entry point of <c>virtio-gpio</c> (docs/daemon.md).</summary>
internal static class Program
{
    private static Task<int> Main(string[] args) => new DaemonCommandLine(DaemonHost.RunAsync).InvokeAsync(args);
}
