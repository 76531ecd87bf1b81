// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>Trigger semantics of <see cref="GpioIrqType"/> (STANDARD.md §6.2: rising = low→high, falling = high→low,
/// LEVEL_HIGH active while 1, LEVEL_LOW active while 0).</summary>
public static class GpioIrqTypeExtensions
{
    /// <summary>Whether the type is an edge type (latched while masked, D8).</summary>
    /// <param name="irqType">The type.</param>
    /// <returns><see langword="true"/> for EDGE_RISING, EDGE_FALLING and EDGE_BOTH.</returns>
    public static bool IsEdge(this GpioIrqType irqType)
        => irqType is GpioIrqType.EdgeRising or GpioIrqType.EdgeFalling or GpioIrqType.EdgeBoth;

    /// <summary>Whether the type is a level type (never latched, D9).</summary>
    /// <param name="irqType">The type.</param>
    /// <returns><see langword="true"/> for LEVEL_HIGH and LEVEL_LOW.</returns>
    public static bool IsLevel(this GpioIrqType irqType)
        => irqType is GpioIrqType.LevelHigh or GpioIrqType.LevelLow;

    /// <summary>The edges an edge type reacts to.</summary>
    /// <param name="irqType">The type.</param>
    /// <returns>The edges; <see cref="LineEventTypes.None"/> for NONE and level types.</returns>
    public static LineEventTypes ToEventTypes(this GpioIrqType irqType) => irqType switch
    {
        GpioIrqType.EdgeRising => LineEventTypes.Rising,
        GpioIrqType.EdgeFalling => LineEventTypes.Falling,
        GpioIrqType.EdgeBoth => LineEventTypes.Rising | LineEventTypes.Falling,
        _ => LineEventTypes.None,
    };

    /// <summary>Whether a transition from <paramref name="oldLevel"/> to <paramref name="newLevel"/> triggers an edge type.</summary>
    /// <param name="irqType">The type.</param>
    /// <param name="oldLevel">The level before.</param>
    /// <param name="newLevel">The level after.</param>
    /// <returns><see langword="true"/> when the edge matches; always <see langword="false"/> for NONE, level types and no change.</returns>
    public static bool MatchesEdge(this GpioIrqType irqType, LineValue oldLevel, LineValue newLevel)
    {
        if (oldLevel == newLevel)
        {
            return false;
        }

        LineEventTypes edge = newLevel.IsHigh ? LineEventTypes.Rising : LineEventTypes.Falling;
        return (irqType.ToEventTypes() & edge) != 0;
    }

    /// <summary>Whether a level type is active at <paramref name="level"/>.</summary>
    /// <param name="irqType">The type.</param>
    /// <param name="level">The current level.</param>
    /// <returns><see langword="true"/> for LEVEL_HIGH at high and LEVEL_LOW at low; <see langword="false"/> otherwise.</returns>
    public static bool IsLevelActive(this GpioIrqType irqType, LineValue level) => irqType switch
    {
        GpioIrqType.LevelHigh => level.IsHigh,
        GpioIrqType.LevelLow => !level.IsHigh,
        _ => false,
    };
}
