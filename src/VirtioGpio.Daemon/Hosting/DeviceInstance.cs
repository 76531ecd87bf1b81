// SPDX-License-Identifier: MIT
using VirtioGpio.Daemon.Control;
using VirtioGpio.Device;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Transport.VhostUser;

namespace VirtioGpio.Daemon.Hosting;

/// <summary>Everything that belongs to one <c>--socket</c>. Lines and device live for the whole process, so line state survives reconnects (VHOST-USER.md §9).</summary>
internal sealed class DeviceInstance
{
    private int _connections;

    public DeviceInstance(int index, string socketPath, SimulatedGpioLineBackend lines, ControlledDevice control)
    {
        Index = index;
        SocketPath = socketPath;
        Lines = lines;
        Control = control;
    }

    public int Index { get; }

    public string SocketPath { get; }

    public SimulatedGpioLineBackend Lines { get; }

    public ControlledDevice Control { get; }

    public IVirtioDevice? Device { get; set; }

    public VhostUserBackendServer? Server { get; set; }

    public VcdTraceWriter? Trace { get; set; }

    public Task? RunTask { get; set; }

    /// <summary>Whether this process's server was seen listening (only then is the socket file ours to remove).</summary>
    public bool Listening { get; set; }

    /// <summary>Counts a connection; returns whether it is a reconnect (not the first).</summary>
    /// <returns><see langword="true"/> from the second connection on.</returns>
    public bool CountConnection() => Interlocked.Increment(ref _connections) > 1;
}
