// SPDX-License-Identifier: MIT
namespace VirtioGpio.Daemon.Cli;

/// <summary>Process exit codes of <c>virtio-gpio</c>.</summary>
internal static class DaemonExitCodes
{
    /// <summary>Clean exit (also after SIGINT/SIGTERM, VHOST-USER.md §1 "exit promptly and cleanly on SIGTERM").</summary>
    public const int Success = 0;

    /// <summary>An unexpected failure after start-up (logged).</summary>
    public const int Failure = 1;

    /// <summary>Bad arguments, a socket path served by a live process, or an unwritable path.</summary>
    public const int UsageError = 2;
}
