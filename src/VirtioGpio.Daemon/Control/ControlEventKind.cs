// SPDX-License-Identifier: MIT
namespace VirtioGpio.Daemon.Control;

/// <summary>What an event line on the control socket reports; a subscriber chooses which kinds it receives.</summary>
internal enum ControlEventKind
{
    /// <summary>A line change the guest drove (direction, output level, IRQ type).</summary>
    GuestLine,

    /// <summary>A host stimulus (set, pulse) on a line; sent only to subscribers that asked for <c>"host":true</c>.</summary>
    HostLine,

    /// <summary>An eventq completion (interrupt delivery), valid or invalid.</summary>
    Irq,

    /// <summary>A request the guest sent on the requestq.</summary>
    Request,

    /// <summary>A vhost-user front-end connected or disconnected.</summary>
    Connection,
}
