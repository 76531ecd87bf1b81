// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>The whole-server protocol tests run one at a time (each starts a server thread and measures fds).</summary>
[CollectionDefinition(Name)]
public sealed class ProtocolCollection
{
    public const string Name = "vhost-user protocol";
}
