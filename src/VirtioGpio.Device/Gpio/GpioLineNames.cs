// SPDX-License-Identifier: MIT
using System.Collections;

namespace VirtioGpio.Device.Gpio;

/// <summary>
/// A validated, immutable list of line names and the names block built from it once
/// (STANDARD.md §5; VIRTIO 1.3 §5.18.6.1 "Get Line Names"; D4, S5): one zero-terminated string per line in
/// increasing line order, an unnamed line being a single zero byte, so the block size is Σ(len(name) + 1).
/// </summary>
/// <remarks>
/// <para>Validation at construction (host input, so violations throw <see cref="ArgumentException"/>):
/// every name is 7-bit ASCII without NUL; non-empty names are unique (ordinal); empty (or <see langword="null"/>)
/// names are allowed any number of times; at most 65535 names (<c>ngpio</c> is a le16).</para>
/// <para>The standard device requires <see cref="Count"/> = <c>ngpio</c>. The draft device (DRAFT.md §2.4) also
/// accepts fewer names than lines; the remaining lines are then unnamed.</para>
/// <para>Immutable and thread-safe.</para>
/// </remarks>
/// <example>
/// <code>
/// var names = new GpioLineNames(new[] { "MMC-CD", "", "", "", "", "Red LED Vdd", "", "Ethernet reset", "", "" });
/// // names.BlockSize == 41; names.Block is the GET_LINE_NAMES payload.
/// </code>
/// </example>
public sealed class GpioLineNames : IReadOnlyList<string>
{
    /// <summary>The largest number of names (<c>ngpio</c> is a le16).</summary>
    public const int MaxCount = ushort.MaxValue;

    private readonly string[] _names;
    private readonly byte[] _block;

    /// <summary>Validates <paramref name="names"/> and builds the names block.</summary>
    /// <param name="names">One entry per line; <see langword="null"/> or empty means "no name".</param>
    /// <exception cref="ArgumentNullException"><paramref name="names"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A name contains NUL or a byte ≥ 0x80, two non-empty names are equal, or there are more than <see cref="MaxCount"/> names.</exception>
    public GpioLineNames(IEnumerable<string?> names)
    {
        if (names is null)
        {
            throw new ArgumentNullException(nameof(names));
        }

        var list = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long size = 0;
        foreach (string? raw in names)
        {
            string name = raw ?? string.Empty;
            int index = list.Count;
            if (index >= MaxCount)
            {
                throw new ArgumentException($"At most {MaxCount} line names are allowed (ngpio is a le16).", nameof(names));
            }

            for (int i = 0; i < name.Length; i++)
            {
                char c = name[i];
                if (c == '\0' || c >= 0x80)
                {
                    throw new ArgumentException(
                        $"Line {index} name contains character U+{(int)c:X4} at position {i}; names are 7-bit ASCII without NUL (STANDARD.md §5).",
                        nameof(names));
                }
            }

            if (name.Length != 0 && !seen.Add(name))
            {
                throw new ArgumentException($"Line {index} name \"{name}\" is not unique (STANDARD.md D4).", nameof(names));
            }

            list.Add(name);
            size += name.Length + 1;
        }

        _names = list.ToArray();
        _block = new byte[size];
        int offset = 0;
        foreach (string name in _names)
        {
            for (int i = 0; i < name.Length; i++)
            {
                _block[offset++] = (byte)name[i];
            }

            _block[offset++] = 0;
        }
    }

    /// <summary>Creates <paramref name="lineCount"/> unnamed lines (block = <paramref name="lineCount"/> zero bytes).</summary>
    /// <param name="lineCount">Number of lines, 0..<see cref="MaxCount"/>.</param>
    /// <returns>The names.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lineCount"/> is out of range.</exception>
    public static GpioLineNames CreateUnnamed(int lineCount)
    {
        if (lineCount < 0 || lineCount > MaxCount)
        {
            throw new ArgumentOutOfRangeException(nameof(lineCount), lineCount, $"Expected 0..{MaxCount}.");
        }

        return new GpioLineNames(new string?[lineCount]);
    }

    /// <summary>Number of names (lines covered by the block).</summary>
    public int Count => _names.Length;

    /// <summary>Whether at least one line has a non-empty name.</summary>
    public bool HasAnyName => _block.Length > _names.Length;

    /// <summary>The name of line <paramref name="index"/>; empty when unnamed.</summary>
    /// <param name="index">0 .. <see cref="Count"/> - 1.</param>
    /// <returns>The name.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public string this[int index]
    {
        get
        {
            if (unchecked((uint)index) >= (uint)_names.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"Expected 0..{_names.Length - 1}.");
            }

            return _names[index];
        }
    }

    /// <summary>The names block: every name followed by one zero byte, in line order.</summary>
    public ReadOnlySpan<byte> Block => _block;

    /// <summary>The names block as memory (for asynchronous writers).</summary>
    public ReadOnlyMemory<byte> BlockMemory => _block;

    /// <summary>Size of <see cref="Block"/> in bytes: Σ(len(name) + 1); the standard <c>gpio_names_size</c> when names are offered.</summary>
    public uint BlockSize => (uint)_block.Length;

    /// <summary>Enumerates the names in line order.</summary>
    /// <returns>An enumerator.</returns>
    public IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)_names).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
