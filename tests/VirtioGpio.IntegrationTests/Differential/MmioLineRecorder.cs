// SPDX-License-Identifier: MIT
using VirtioGpio.Transport.Mmio;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>The in-process replay's virtio-mmio interrupt line: remembers the level.</summary>
public sealed class MmioLineRecorder : IVirtioMmioInterruptLine
{
    /// <summary>The current level.</summary>
    public bool Level { get; private set; }

    /// <inheritdoc/>
    public void SetLevel(bool asserted) => Level = asserted;
}
