// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.Mmio;

/// <summary>The VMM's interrupt line for one virtio-mmio device (level-triggered).</summary>
/// <remarks>Called with the transport's lock held, from the thread that caused the change (a register
/// access or a device notification). Implementations must not call back into the transport.</remarks>
public interface IVirtioMmioInterruptLine
{
    /// <summary>Raises (<see langword="true"/>) or lowers the line. The transport calls it only on a change.</summary>
    /// <param name="asserted">The new level: asserted while any InterruptStatus bit is set.</param>
    void SetLevel(bool asserted);
}
