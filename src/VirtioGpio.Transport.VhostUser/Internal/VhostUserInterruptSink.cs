// SPDX-License-Identifier: MIT
using VirtioGpio.Device;
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Transport.VhostUser.Internal;

/// <summary>
/// The device's notification sink for one connection: a used-buffer notification is an 8-byte write
/// to the ring's call eventfd; a configuration change wakes the connection's event loop, which
/// signals err fds of broken rings and sends BACKEND_CONFIG_CHANGE_MSG (never from the device's thread).
/// </summary>
/// <remarks>Thread-safe; never calls back into the device. After <see cref="Close"/> it does nothing.</remarks>
internal sealed class VhostUserInterruptSink : IVirtioInterruptSink
{
    private readonly VringState[] _rings;
    private readonly object _wakeLock = new();
    private readonly Action _onConfigChange;
    private int _wakeFd;
    private volatile bool _closed;

    public VhostUserInterruptSink(VringState[] rings, int wakeFd, Action onConfigChange)
    {
        _rings = rings;
        _wakeFd = wakeFd;
        _onConfigChange = onConfigChange;
    }

    /// <inheritdoc/>
    public void NotifyUsedBuffers(int queueIndex)
    {
        if (_closed || (uint)queueIndex >= (uint)_rings.Length)
        {
            return;
        }

        VringState ring = _rings[queueIndex];

        // VHOST-USER.md §6.2 "Suspended device state": a stopped ring sends no notification.
        if (!ring.Started)
        {
            return;
        }

        bool signalled = false;
        lock (ring.SignalLock)
        {
            int fd = ring.CallFd;
            if (fd >= 0)
            {
                signalled = EventFd.Signal(fd);
            }
        }

        if (signalled)
        {
            VhostUserMetrics.Calls.Add(1);
        }
    }

    /// <inheritdoc/>
    public void NotifyConfigChange()
    {
        _onConfigChange();
        lock (_wakeLock)
        {
            if (!_closed && _wakeFd >= 0)
            {
                EventFd.Signal(_wakeFd);
            }
        }
    }

    /// <summary>Wakes the event loop (cancellation).</summary>
    public void Wake()
    {
        lock (_wakeLock)
        {
            if (!_closed && _wakeFd >= 0)
            {
                EventFd.Signal(_wakeFd);
            }
        }
    }

    /// <summary>Stops every notification and closes the wake fd.</summary>
    public void Close()
    {
        lock (_wakeLock)
        {
            _closed = true;
            FileDescriptors.Close(_wakeFd);
            _wakeFd = -1;
        }
    }
}
