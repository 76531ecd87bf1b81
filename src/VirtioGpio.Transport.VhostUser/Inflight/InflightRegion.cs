// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Transport.VhostUser.Inflight;

/// <summary>
/// The shared inflight-tracking buffer of INFLIGHT_SHMFD (VHOST-USER.md §10, qemu vhost-user.rst
/// "Inflight I/O tracking"): one split-queue region per queue, back to back, each
/// <c>QueueRegionSplit { u64 features; u16 version; u16 desc_num; u16 last_batch_head; u16 used_idx; DescStateSplit desc[desc_num]; }</c>
/// rounded up to 64 bytes, with <c>DescStateSplit { u8 inflight; u8 padding[5]; u16 next; u64 counter; }</c>.
/// </summary>
internal sealed unsafe class InflightRegion : IDisposable
{
    /// <summary>Offset of <c>version</c>.</summary>
    public const int VersionOffset = 8;

    /// <summary>Offset of <c>desc_num</c>.</summary>
    public const int DescNumOffset = 10;

    /// <summary>Offset of <c>last_batch_head</c>.</summary>
    public const int LastBatchHeadOffset = 12;

    /// <summary>Offset of <c>used_idx</c>.</summary>
    public const int UsedIdxOffset = 14;

    /// <summary>Offset of <c>desc[0]</c>.</summary>
    public const int DescriptorsOffset = 16;

    /// <summary>Size of one <c>DescStateSplit</c>.</summary>
    public const int DescriptorStateSize = 16;

    /// <summary>Offset of <c>inflight</c> in a descriptor state.</summary>
    public const int InflightFieldOffset = 0;

    /// <summary>Offset of <c>next</c> in a descriptor state.</summary>
    public const int NextFieldOffset = 6;

    /// <summary>Offset of <c>counter</c> in a descriptor state.</summary>
    public const int CounterFieldOffset = 8;

    /// <summary>The layout version this back-end writes.</summary>
    public const ushort CurrentVersion = 1;

    private readonly MappedMemory _mapping;
    private readonly byte* _base;

    private InflightRegion(MappedMemory mapping, nint pointer, int numQueues, int queueSize, ulong regionSize)
    {
        _mapping = mapping;
        _base = (byte*)pointer;
        NumQueues = numQueues;
        QueueSize = queueSize;
        QueueRegionSize = regionSize;
    }

    /// <summary>Number of queue regions.</summary>
    public int NumQueues { get; }

    /// <summary>Descriptors per queue region (<c>desc_num</c>, the front-end's queue size).</summary>
    public int QueueSize { get; }

    /// <summary>Bytes per queue region.</summary>
    public ulong QueueRegionSize { get; }

    /// <summary>Total bytes (<c>mmap_size</c>).</summary>
    public ulong TotalSize => QueueRegionSize * (ulong)NumQueues;

    /// <summary>Bytes per queue region: <c>16 + 16·queueSize</c>, rounded up to 64 like libvhost-user.</summary>
    public static ulong GetQueueRegionSize(int queueSize) => ((ulong)DescriptorsOffset + ((ulong)queueSize * DescriptorStateSize) + 63) & ~63UL;

    /// <summary>Creates a fresh memfd-backed region for GET_INFLIGHT_FD and initialises every queue region.</summary>
    /// <param name="numQueues">Queues (1..255).</param>
    /// <param name="queueSize">Descriptors per queue (1..32768).</param>
    /// <param name="fd">The memfd to send to the front-end (the caller closes it after sending).</param>
    /// <exception cref="IOException">memfd_create, ftruncate or mmap failed.</exception>
    public static InflightRegion CreateNew(int numQueues, int queueSize, out int fd)
    {
        ulong regionSize = GetQueueRegionSize(queueSize);
        ulong total = regionSize * (ulong)numQueues;
        fd = MemFd.Create("vhost-user-inflight", (long)total);
        int errno = MappedMemory.TryMap(fd, 0, total, out MappedMemory? mapping, out nint pointer);
        if (errno != 0 || mapping is null)
        {
            FileDescriptors.Close(fd);
            fd = -1;
            throw UnixSocket.CreateIOException("mmap(inflight)", errno);
        }

        InflightRegion region = new(mapping, pointer, numQueues, queueSize, regionSize);
        for (int i = 0; i < numQueues; i++)
        {
            region.InitializeQueue(i);
        }

        return region;
    }

    /// <summary>
    /// Maps a region handed back with SET_INFLIGHT_FD. Queues whose <c>version</c> is 0 are
    /// initialised (fresh); others keep their content for recovery.
    /// </summary>
    /// <returns>0, or the errno / EINVAL for a file smaller than <c>offset + size</c> or a size that does not match the layout.</returns>
    public static int TryOpen(int fd, ulong mmapOffset, ulong mmapSize, int numQueues, int queueSize, out InflightRegion? region)
    {
        region = null;
        ulong regionSize = GetQueueRegionSize(queueSize);
        if (numQueues <= 0 || queueSize <= 0 || mmapSize < regionSize * (ulong)numQueues || mmapOffset > long.MaxValue || mmapSize > long.MaxValue - mmapOffset)
        {
            return LibC.EINVAL;
        }

        int errno = FileDescriptors.TryGetFileSize(fd, out long fileSize);
        if (errno != 0)
        {
            return errno;
        }

        if ((ulong)fileSize < mmapOffset + mmapSize)
        {
            return LibC.EINVAL;
        }

        errno = MappedMemory.TryMap(fd, mmapOffset, mmapSize, out MappedMemory? mapping, out nint pointer);
        if (errno != 0 || mapping is null)
        {
            return errno == 0 ? LibC.EINVAL : errno;
        }

        region = new InflightRegion(mapping, pointer, numQueues, queueSize, regionSize);
        for (int i = 0; i < numQueues; i++)
        {
            Span<byte> header = region.GetQueueSpan(i).Slice(0, DescriptorsOffset);
            ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(VersionOffset));
            ushort descNum = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(DescNumOffset));
            if (version == 0 || descNum != (ushort)queueSize)
            {
                // Uninitialised (fresh), or written with another layout: start clean.
                region.InitializeQueue(i);
            }
        }

        return 0;
    }

    /// <summary>The bytes of queue <paramref name="queueIndex"/>'s region.</summary>
    public Span<byte> GetQueueSpan(int queueIndex)
    {
        if ((uint)queueIndex >= (uint)NumQueues)
        {
            throw new ArgumentOutOfRangeException(nameof(queueIndex));
        }

        // SAFETY: queueIndex < NumQueues and the mapping covers NumQueues × QueueRegionSize bytes.
        return new Span<byte>(_base + ((ulong)queueIndex * QueueRegionSize), checked((int)QueueRegionSize));
    }

    /// <summary>Host pointer to queue <paramref name="queueIndex"/>'s region (for the tracker).</summary>
    public nint GetQueuePointer(int queueIndex)
    {
        if ((uint)queueIndex >= (uint)NumQueues)
        {
            throw new ArgumentOutOfRangeException(nameof(queueIndex));
        }

        return (nint)(_base + ((ulong)queueIndex * QueueRegionSize));
    }

    private void InitializeQueue(int queueIndex)
    {
        Span<byte> span = GetQueueSpan(queueIndex);
        span.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(span.Slice(VersionOffset), CurrentVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(span.Slice(DescNumOffset), (ushort)QueueSize);
    }

    /// <summary>Unmaps the region.</summary>
    public void Dispose() => _mapping.Dispose();
}
