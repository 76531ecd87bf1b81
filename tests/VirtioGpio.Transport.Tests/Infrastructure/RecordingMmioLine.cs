// SPDX-License-Identifier: MIT
using VirtioGpio.Transport.Mmio;

namespace VirtioGpio.Transport.Tests.Infrastructure;

/// <summary>An interrupt line that records every level change the transport makes.</summary>
internal sealed class RecordingMmioLine : IVirtioMmioInterruptLine
{
    private readonly List<bool> _changes = [];

    public bool Level { get; private set; }

    public IReadOnlyList<bool> Changes => _changes;

    public void SetLevel(bool asserted)
    {
        Assert.NotEqual(Level, asserted); // the transport reports changes only
        Level = asserted;
        _changes.Add(asserted);
    }
}
