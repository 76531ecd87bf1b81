// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser.Tests.Backend;

/// <summary>
/// Tests that count the process's open fds run alone (no other test opens or closes fds meanwhile).
/// Protocol tests that count fds should join this collection: <c>[Collection(FdAccountingCollection.Name)]</c>.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FdAccountingCollection
{
    public const string Name = "vhost-user fd accounting";
}
