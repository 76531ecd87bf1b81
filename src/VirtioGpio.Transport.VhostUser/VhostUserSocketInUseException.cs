// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser;

/// <summary>The socket path is already served by a live process (a connection to it succeeded).</summary>
public sealed class VhostUserSocketInUseException : IOException
{
    /// <summary>Creates the exception.</summary>
    public VhostUserSocketInUseException()
        : base("The socket path is served by a live process.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public VhostUserSocketInUseException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public VhostUserSocketInUseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="socketPath"/>.</summary>
    /// <param name="socketPath">The path.</param>
    /// <param name="reserved">Unused; distinguishes the overload.</param>
    internal VhostUserSocketInUseException(string socketPath, bool reserved)
        : base($"The socket {socketPath} is served by a live process; refusing to replace it.")
    {
        _ = reserved;
        SocketPath = socketPath;
    }

    /// <summary>The path that is in use, when known.</summary>
    public string? SocketPath { get; }
}
