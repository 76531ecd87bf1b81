// SPDX-License-Identifier: MIT
using VirtioGpio.Transport.Pci;

namespace VirtioGpio.Transport.Tests.Infrastructure;

/// <summary>Records MSI-X messages and INTx level changes.</summary>
internal sealed class RecordingPciInterrupts : IVirtioPciInterruptController
{
    public List<(ulong Address, uint Data)> Messages { get; } = [];

    public bool Intx { get; private set; }

    public int IntxChanges { get; private set; }

    public void SendMsi(ulong address, uint data) => Messages.Add((address, data));

    public void SetIntx(bool asserted)
    {
        Assert.NotEqual(Intx, asserted);
        Intx = asserted;
        IntxChanges++;
    }
}
