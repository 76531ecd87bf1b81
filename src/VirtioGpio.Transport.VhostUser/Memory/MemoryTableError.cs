// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser.Memory;

/// <summary>Why a memory table or region was refused (VHOST-USER.md §8.1 checks).</summary>
internal enum MemoryTableError : byte
{
    /// <summary>Accepted.</summary>
    None = 0,

    /// <summary>nregions is 0, above 8, or the table would exceed the slot count.</summary>
    RegionCount,

    /// <summary>A region has size 0.</summary>
    ZeroSize,

    /// <summary><c>gpa + size</c>, <c>user_addr + size</c> or <c>mmap_offset + size</c> overflows.</summary>
    Overflow,

    /// <summary>Two regions overlap (guest physical or user address ranges).</summary>
    Overlap,

    /// <summary>fstat failed on the region's fd.</summary>
    StatFailed,

    /// <summary>The file is smaller than <c>mmap_offset + size</c> (a later access would raise SIGBUS).</summary>
    FileTooSmall,

    /// <summary>mmap failed.</summary>
    MapFailed,

    /// <summary>REM_MEM_REG named a region that is not in the table.</summary>
    NotFound,
}
