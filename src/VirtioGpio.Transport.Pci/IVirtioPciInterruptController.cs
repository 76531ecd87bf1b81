// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.Pci;

/// <summary>How a <see cref="VirtioPciTransport"/> delivers interrupts through the VMM.</summary>
/// <remarks>Called from the thread that caused the interrupt (a register access or a device
/// notification on a worker thread), with the transport's interrupt lock held. Implementations must
/// not call back into the transport.</remarks>
public interface IVirtioPciInterruptController
{
    /// <summary>Delivers one MSI-X message (a DWORD write of <paramref name="data"/> to <paramref name="address"/>).</summary>
    /// <param name="address">The message address programmed by the guest in the MSI-X table.</param>
    /// <param name="data">The message data programmed by the guest.</param>
    void SendMsi(ulong address, uint data);

    /// <summary>Raises or lowers the legacy INTx line (INTA#). Called only on a change.</summary>
    /// <param name="asserted">The new level.</param>
    void SetIntx(bool asserted);
}
