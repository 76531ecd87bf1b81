// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Device.Testing.VhostUser;

/// <summary>
/// Guest RAM of a vhost-user front-end: one or more memfds (MFD_CLOEXEC), mapped shared into this
/// process, seen through <see cref="GuestMemory"/> (pointer-backed <see cref="GuestMemoryRegion"/>s)
/// and described to the back-end by <see cref="Regions"/>, whose <c>user_addr</c> is the address
/// of the mapping in this process, as QEMU does (VHOST-USER.md §8.3).
/// </summary>
/// <remarks>Disposal unmaps and closes the memfds; the back-end keeps its own mappings.</remarks>
public sealed class VhostUserGuestMemory : IDisposable
{
    private readonly List<MappedMemory> _mappings = new();
    private readonly List<int> _fds = new();
    private readonly VhostUserMemoryRegionDescriptor[] _regions;
    private bool _disposed;

    private VhostUserGuestMemory(IReadOnlyList<VhostUserMemoryRegionLayout> layouts)
    {
        if (layouts.Count == 0)
        {
            throw new ArgumentException("At least one region is needed.", nameof(layouts));
        }

        _regions = new VhostUserMemoryRegionDescriptor[layouts.Count];
        var fileOfRegion = new int[layouts.Count];
        var fileSizes = new List<ulong>();
        var groups = new Dictionary<int, int>();
        for (int i = 0; i < layouts.Count; i++)
        {
            VhostUserMemoryRegionLayout layout = layouts[i];
            if (layout.Size == 0 || layout.MmapOffset > ulong.MaxValue - layout.Size || !layout.GuestAddress.IsRangeValid(layout.Size))
            {
                throw new ArgumentException($"Invalid region {layout}.", nameof(layouts));
            }

            int file;
            if (layout.FileIndex >= 0 && groups.TryGetValue(layout.FileIndex, out int existing))
            {
                file = existing;
            }
            else
            {
                file = fileSizes.Count;
                fileSizes.Add(0);
                if (layout.FileIndex >= 0)
                {
                    groups.Add(layout.FileIndex, file);
                }
            }

            fileOfRegion[i] = file;
            fileSizes[file] = Math.Max(fileSizes[file], layout.MmapOffset + layout.Size);
        }

        try
        {
            var bases = new nint[fileSizes.Count];
            for (int f = 0; f < fileSizes.Count; f++)
            {
                int fd = MemFd.Create($"vhost-user-guest-{f}", checked((long)fileSizes[f]));
                _fds.Add(fd);
                int errno = MappedMemory.TryMap(fd, 0, fileSizes[f], out MappedMemory? mapping, out nint pointer);
                if (errno != 0)
                {
                    throw UnixSocket.CreateIOException("mmap", errno);
                }

                _mappings.Add(mapping!);
                bases[f] = pointer;
            }

            var regions = new GuestMemoryRegion[layouts.Count];
            for (int i = 0; i < layouts.Count; i++)
            {
                VhostUserMemoryRegionLayout layout = layouts[i];
                int file = fileOfRegion[i];
                nint host = (nint)((ulong)bases[file] + layout.MmapOffset);
                regions[i] = GuestMemoryRegion.FromHostPointer(layout.GuestAddress, host, layout.Size);
                _regions[i] = new VhostUserMemoryRegionDescriptor(layout.GuestAddress, layout.Size, (ulong)host, layout.MmapOffset, _fds[file]);
            }

            GuestMemory = new RegionGuestMemory(regions);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Creates one region of <paramref name="size"/> bytes at guest address 0.</summary>
    /// <param name="size">Bytes (the memfd is sparse: untouched pages cost nothing).</param>
    /// <returns>The memory.</returns>
    public static VhostUserGuestMemory Create(ulong size) => Create(new[] { new VhostUserMemoryRegionLayout(new GuestAddress(0), size) });

    /// <summary>Creates memory from explicit region layouts (non-overlapping guest ranges).</summary>
    /// <param name="layouts">The regions, in the order SET_MEM_TABLE sends them.</param>
    /// <returns>The memory.</returns>
    /// <exception cref="ArgumentException">No region, an empty or wrapping region, or overlapping guest ranges.</exception>
    /// <exception cref="IOException">memfd_create, ftruncate or mmap failed.</exception>
    public static VhostUserGuestMemory Create(IReadOnlyList<VhostUserMemoryRegionLayout> layouts)
    {
        ArgumentNullException.ThrowIfNull(layouts);
        return new VhostUserGuestMemory(layouts);
    }

    /// <summary>The memory as the driver side (and in-process checks) see it.</summary>
    public RegionGuestMemory GuestMemory { get; } = null!;

    /// <summary>The regions as SET_MEM_TABLE describes them, in layout order (fds owned by this object).</summary>
    public IReadOnlyList<VhostUserMemoryRegionDescriptor> Regions => _regions;

    /// <summary>Translates a guest physical address to the front-end user address the back-end expects in SET_VRING_ADDR.</summary>
    /// <param name="address">A guest address inside a region.</param>
    /// <param name="userAddress">The user address.</param>
    /// <returns><see langword="false"/> when no region holds the address.</returns>
    public bool TryGetUserAddress(GuestAddress address, out ulong userAddress)
    {
        foreach (VhostUserMemoryRegionDescriptor region in _regions)
        {
            ulong offset = unchecked(address.Value - region.GuestAddress.Value);
            if (offset < region.Size)
            {
                userAddress = region.UserAddress + offset;
                return true;
            }
        }

        userAddress = 0;
        return false;
    }

    /// <summary>Translates a guest physical address to a front-end user address.</summary>
    /// <param name="address">A guest address inside a region.</param>
    /// <returns>The user address.</returns>
    /// <exception cref="ArgumentOutOfRangeException">No region holds the address.</exception>
    public ulong GetUserAddress(GuestAddress address) =>
        TryGetUserAddress(address, out ulong user) ? user : throw new ArgumentOutOfRangeException(nameof(address), $"{address} is not in guest memory.");

    /// <summary>Unmaps the memory and closes the memfds. Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (MappedMemory mapping in _mappings)
        {
            mapping.Dispose();
        }

        foreach (int fd in _fds)
        {
            FileDescriptors.Close(fd);
        }

        _mappings.Clear();
        _fds.Clear();
    }
}
