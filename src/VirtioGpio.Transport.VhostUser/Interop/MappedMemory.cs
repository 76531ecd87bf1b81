// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser.Interop;

/// <summary>
/// One <c>mmap(MAP_SHARED, PROT_READ|PROT_WRITE)</c> of a file, unmapped on <see cref="Dispose"/>.
/// The mapping does not keep the fd: the caller may close it right after <see cref="TryMap"/>.
/// </summary>
internal sealed unsafe class MappedMemory : IDisposable
{
    private nint _address;

    private MappedMemory(nint address, nuint length, long fileOffset)
    {
        _address = address;
        Length = length;
        FileOffset = fileOffset;
    }

    /// <summary>Host address of the first mapped byte (0 after disposal).</summary>
    public nint Address => _address;

    /// <summary>Mapped length in bytes.</summary>
    public nuint Length { get; }

    /// <summary>File offset of the first mapped byte (page aligned).</summary>
    public long FileOffset { get; }

    /// <summary>System page size.</summary>
    public static int PageSize { get; } = LibC.getpagesize();

    /// <summary>
    /// Maps <c>[offset, offset + length)</c> of <paramref name="fd"/>. The offset need not be page
    /// aligned: the mapping starts at the page below it, and <paramref name="pointer"/> points at
    /// <paramref name="offset"/> itself.
    /// </summary>
    /// <param name="fd">The file.</param>
    /// <param name="offset">File offset of the first byte wanted.</param>
    /// <param name="length">Bytes wanted (at least 1).</param>
    /// <param name="mapping">The mapping on success.</param>
    /// <param name="pointer">Host address of <paramref name="offset"/>.</param>
    /// <returns>0, or the errno (EINVAL for a range that does not fit the address space).</returns>
    public static int TryMap(int fd, ulong offset, ulong length, out MappedMemory? mapping, out nint pointer)
    {
        mapping = null;
        pointer = 0;
        ulong pageMask = (ulong)PageSize - 1;
        ulong alignedOffset = offset & ~pageMask;
        ulong slack = offset - alignedOffset;
        if (length == 0 || length > long.MaxValue - slack || alignedOffset > long.MaxValue)
        {
            return LibC.EINVAL;
        }

        ulong mapLength = length + slack;
        nint address = LibC.mmap(0, (nuint)mapLength, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, (long)alignedOffset);
        if (address == LibC.MapFailed)
        {
            return LibC.LastError;
        }

        mapping = new MappedMemory(address, (nuint)mapLength, (long)alignedOffset);
        pointer = (nint)((byte*)address + slack);
        return 0;
    }

    /// <summary>A span over <c>[offset, offset + length)</c> of the mapping (caller checked the range).</summary>
    public Span<byte> GetSpan(nuint offset, int length) => new((byte*)_address + offset, length);

    /// <summary>Unmaps. Idempotent.</summary>
    public void Dispose()
    {
        nint address = Interlocked.Exchange(ref _address, 0);
        if (address != 0)
        {
            _ = LibC.munmap(address, Length);
        }
    }
}
