// SPDX-License-Identifier: MIT
namespace VirtioGpio.IntegrationTests.Infrastructure;

/// <summary>All real-guest tests run one after another (TCG is CPU-bound; CI has 2 cores).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealGuestCollection : ICollectionFixture<GuestFixture>
{
    public const string Name = "RealGuest";
}
