// SPDX-License-Identifier: MIT
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Device.Testing.VhostUser;

/// <summary>
/// The inflight-tracking buffer a back-end handed out with GET_INFLIGHT_FD (VHOST-USER.md §10).
/// The front-end treats it as opaque and keeps the fd across back-end restarts, to hand it back
/// with SET_INFLIGHT_FD. Disposal closes the fd.
/// </summary>
public sealed class VhostUserInflightRegion : IDisposable
{
    private int _fd;

    /// <summary>Wraps a GET_INFLIGHT_FD reply.</summary>
    /// <param name="fd">The fd (owned from now on).</param>
    /// <param name="mmapSize">The <c>mmap_size</c> field.</param>
    /// <param name="mmapOffset">The <c>mmap_offset</c> field.</param>
    /// <param name="numQueues">The <c>num_queues</c> field.</param>
    /// <param name="queueSize">The <c>queue_size</c> field.</param>
    public VhostUserInflightRegion(int fd, ulong mmapSize, ulong mmapOffset, ushort numQueues, ushort queueSize)
    {
        _fd = fd;
        MmapSize = mmapSize;
        MmapOffset = mmapOffset;
        NumQueues = numQueues;
        QueueSize = queueSize;
    }

    /// <summary>The shared-memory fd (-1 after disposal).</summary>
    public int Fd => _fd;

    /// <summary>Size of the area in bytes.</summary>
    public ulong MmapSize { get; }

    /// <summary>Offset of the area in the fd.</summary>
    public ulong MmapOffset { get; }

    /// <summary>Queues covered.</summary>
    public ushort NumQueues { get; }

    /// <summary>Queue size the area was made for.</summary>
    public ushort QueueSize { get; }

    /// <summary>Reads the area's current bytes (a fresh mapping, so the test sees what the back-end wrote).</summary>
    /// <returns>The bytes.</returns>
    /// <exception cref="IOException">mmap failed.</exception>
    public byte[] ReadBytes()
    {
        int errno = MappedMemory.TryMap(_fd, MmapOffset, MmapSize, out MappedMemory? mapping, out nint pointer);
        if (errno != 0)
        {
            throw UnixSocket.CreateIOException("mmap", errno);
        }

        using (mapping)
        {
            unsafe
            {
                return new ReadOnlySpan<byte>((void*)pointer, checked((int)MmapSize)).ToArray();
            }
        }
    }

    /// <summary>Closes the fd. Idempotent.</summary>
    public void Dispose() => FileDescriptors.Close(Interlocked.Exchange(ref _fd, -1));

    /// <inheritdoc/>
    public override string ToString() => $"inflight size 0x{MmapSize:x} offset 0x{MmapOffset:x} queues {NumQueues} x {QueueSize}";
}
