// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing;

/// <summary>The descriptor arrangement of a chain added by <see cref="SimulatedVirtioDriver"/>. The default is <see cref="Direct"/>.</summary>
public readonly struct ChainShape : IEquatable<ChainShape>
{
    private ChainShape(ChainShapeKind kind, int directCount)
    {
        Kind = kind;
        DirectCount = directCount;
    }

    /// <summary>One descriptor per buffer, chained with NEXT.</summary>
    public static ChainShape Direct => default;

    /// <summary>A single INDIRECT descriptor pointing to a table with every buffer (Linux style).</summary>
    public static ChainShape Indirect => new(ChainShapeKind.Indirect, 0);

    /// <summary>The arrangement.</summary>
    public ChainShapeKind Kind { get; }

    /// <summary>For <see cref="ChainShapeKind.DirectThenIndirect"/>: how many leading buffers get direct descriptors.</summary>
    public int DirectCount { get; }

    /// <summary>The first <paramref name="directCount"/> buffers as direct descriptors, the rest in one indirect table.</summary>
    /// <param name="directCount">Number of direct descriptors (at least 0; fewer than the buffer count).</param>
    /// <returns>The shape.</returns>
    public static ChainShape DirectThenIndirect(int directCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(directCount);
        return new ChainShape(ChainShapeKind.DirectThenIndirect, directCount);
    }

    /// <inheritdoc/>
    public bool Equals(ChainShape other) => Kind == other.Kind && DirectCount == other.DirectCount;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ChainShape other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, DirectCount);

    /// <inheritdoc/>
    public override string ToString() => Kind == ChainShapeKind.DirectThenIndirect ? $"{Kind}({DirectCount})" : Kind.ToString();

    /// <summary>Equality.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>Whether the shapes are equal.</returns>
    public static bool operator ==(ChainShape left, ChainShape right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    /// <param name="left">Left operand.</param>
    /// <param name="right">Right operand.</param>
    /// <returns>Whether the shapes differ.</returns>
    public static bool operator !=(ChainShape left, ChainShape right) => !left.Equals(right);
}
