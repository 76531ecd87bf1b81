// SPDX-License-Identifier: MIT
namespace VirtioGpio.Daemon.Cli;

/// <summary>
/// A user error (bad argument, socket path in use, unwritable path): the daemon prints the one-line
/// <see cref="Exception.Message"/> to stderr and exits with <see cref="DaemonExitCodes.UsageError"/>, never a stack trace.
/// </summary>
internal sealed class DaemonUsageException : Exception
{
    public DaemonUsageException(string message)
        : base(message)
    {
    }

    public DaemonUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DaemonUsageException()
    {
    }
}
