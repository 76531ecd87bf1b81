// SPDX-License-Identifier: MIT
using System.Diagnostics.Metrics;

namespace VirtioGpio.Transport.VhostUser.Internal;

/// <summary>Instruments of the vhost-user back-end on the shared meter "VirtioGpio".</summary>
internal static class VhostUserMetrics
{
    /// <summary>The meter name shared by every VirtioGpio component.</summary>
    public const string MeterName = "VirtioGpio";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Front-end messages received (tag <c>request</c>).</summary>
    public static readonly Counter<long> Messages = Meter.CreateCounter<long>("virtiogpio.vhost_user.messages", "{message}", "vhost-user front-end messages received");

    /// <summary>Rejected messages and protocol errors (tag <c>kind</c>).</summary>
    public static readonly Counter<long> Errors = Meter.CreateCounter<long>("virtiogpio.vhost_user.errors", "{error}", "vhost-user messages rejected and protocol errors");

    /// <summary>Front-end connections accepted (every connection after the first is a reconnect).</summary>
    public static readonly Counter<long> Connections = Meter.CreateCounter<long>("virtiogpio.vhost_user.connections", "{connection}", "vhost-user front-end connections accepted");

    /// <summary>Kicks (driver notifications) received.</summary>
    public static readonly Counter<long> Kicks = Meter.CreateCounter<long>("virtiogpio.vhost_user.kicks", "{kick}", "vhost-user ring kicks received");

    /// <summary>Call signals (used-buffer notifications) sent.</summary>
    public static readonly Counter<long> Calls = Meter.CreateCounter<long>("virtiogpio.vhost_user.calls", "{call}", "vhost-user call signals sent");
}
