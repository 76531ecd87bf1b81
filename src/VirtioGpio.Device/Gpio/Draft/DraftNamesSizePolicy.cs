// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio.Draft;

/// <summary>
/// Which <c>names_size</c> values to avoid because of the draft driver's 2-byte heap overflow (DRAFT.md §2.5, B4):
/// the driver's names allocation is a device-managed block of <see cref="AllocationHeaderSize"/> + <c>names_size</c>
/// bytes, served from kmalloc buckets; a neighbour is overwritten when header + names_size equals a bucket size or is
/// one less. The config builder appends two NUL bytes while the size is forbidden.
/// </summary>
/// <remarks>The arithmetic depends on kernel and architecture, hence a policy; <see cref="LinuxX8664v61"/> is the default.</remarks>
public sealed class DraftNamesSizePolicy
{
    private readonly int[] _buckets;

    /// <summary>Creates a policy.</summary>
    /// <param name="allocationHeaderSize">Bytes the allocator adds before the data (x86-64 6.1 devm: 40).</param>
    /// <param name="bucketSizes">The allocator's bucket sizes (x86-64 6.1 kmalloc: 64, 96, 128, 192, 256, …).</param>
    /// <exception cref="ArgumentNullException"><paramref name="bucketSizes"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    public DraftNamesSizePolicy(int allocationHeaderSize, IEnumerable<int> bucketSizes)
    {
        if (bucketSizes is null)
        {
            throw new ArgumentNullException(nameof(bucketSizes));
        }

        if (allocationHeaderSize < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(allocationHeaderSize), allocationHeaderSize, "Must not be negative.");
        }

        _buckets = bucketSizes.ToArray();
        if (_buckets.Any(b => b < 0))
        {
            throw new ArgumentOutOfRangeException(nameof(bucketSizes), "Bucket sizes must not be negative.");
        }

        AllocationHeaderSize = allocationHeaderSize;
    }

    /// <summary>The Debian 6.1 x86-64 layout: header 40, buckets 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192 —
    /// forbidden {23, 24, 55, 56, 87, 88, 151, 152, 215, 216, …}.</summary>
    public static DraftNamesSizePolicy LinuxX8664v61 { get; } = new(40, new[] { 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192 });

    /// <summary>No forbidden sizes (for drivers without the bug, or tests).</summary>
    public static DraftNamesSizePolicy None { get; } = new(0, Array.Empty<int>());

    /// <summary>The allocation header size.</summary>
    public int AllocationHeaderSize { get; }

    /// <summary>The bucket sizes.</summary>
    public IReadOnlyList<int> BucketSizes => _buckets;

    /// <summary>Whether a names block of <paramref name="namesSize"/> bytes would trigger the overflow. 0 (no names) is never forbidden.</summary>
    /// <param name="namesSize">The candidate size.</param>
    /// <returns><see langword="true"/> when header + size is a bucket size or one less.</returns>
    public bool IsForbidden(uint namesSize)
    {
        if (namesSize == 0)
        {
            return false;
        }

        long total = (long)AllocationHeaderSize + namesSize;
        foreach (int bucket in _buckets)
        {
            if (total == bucket || total == bucket - 1L)
            {
                return true;
            }
        }

        return false;
    }
}
