// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing;

/// <summary>Thrown by the test kit's assertion helpers (for example <see cref="RecordingGuestMemory.AssertNoWritesOutside(GuestRange[])"/>) when a device touched guest memory it must not.</summary>
public sealed class GuestMemoryAssertionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GuestMemoryAssertionException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public GuestMemoryAssertionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public GuestMemoryAssertionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
