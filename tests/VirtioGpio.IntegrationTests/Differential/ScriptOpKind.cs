// SPDX-License-Identifier: MIT
namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>What one line of a register script does.</summary>
public enum ScriptOpKind
{
    /// <summary><c>rW REGION OFFSET</c>: one read of W bits; the value is compared.</summary>
    Read,

    /// <summary><c>wW REGION OFFSET VALUE</c>: one write of W bits.</summary>
    Write,

    /// <summary>
    /// <c>pollW REGION OFFSET VALUE</c>: re-read until the value equals VALUE (the guest gives up after ~5 s; our
    /// in-process transport completes synchronously, so one read). The last value read is compared. Used for what
    /// the vhost-user back-end and QEMU do asynchronously: used-ring indices, InterruptStatus, ISR.
    /// </summary>
    Poll,

    /// <summary><c>caps</c> (PCI): walk the capability list; every field of every capability is compared.</summary>
    Capabilities,

    /// <summary><c>barsize REGION</c> (PCI): size the BAR holding REGION (all-ones write, read back, restore).</summary>
    BarSize,

    /// <summary>
    /// <c>settle MS</c>: the guest waits MS milliseconds so that asynchronous effects have arrived before the next read
    /// (the in-process replay is synchronous and does nothing). Produces no value.
    /// </summary>
    Settle,
}
