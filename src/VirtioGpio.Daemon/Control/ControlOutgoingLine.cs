// SPDX-License-Identifier: MIT
namespace VirtioGpio.Daemon.Control;

/// <summary>One line queued for a control client.</summary>
internal readonly struct ControlOutgoingLine
{
    public ControlOutgoingLine(byte[] bytes, bool isEvent)
    {
        Bytes = bytes;
        IsEvent = isEvent;
    }

    /// <summary>UTF-8 JSON ending in '\n'.</summary>
    public byte[] Bytes { get; }

    /// <summary>Whether it is an event (droppable) rather than a response.</summary>
    public bool IsEvent { get; }
}
