// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Memory;
using VirtioGpio.Transport.Pci;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>
/// The in-process replay's interrupt controller. An MSI-X message is what the platform makes of it: a 32-bit write of
/// the data to the address. The scripts point the table entries into the RAM window (not at the local APIC), so QEMU
/// performs the same write into guest RAM and both sides can read it back. INTx is remembered.
/// </summary>
public sealed class PciInterruptRecorder : IVirtioPciInterruptController
{
    private readonly IGuestMemory _memory;
    private int _messages;

    /// <summary>Creates the controller over <paramref name="memory"/>.</summary>
    public PciInterruptRecorder(IGuestMemory memory) => _memory = memory;

    /// <summary>MSI-X messages sent so far.</summary>
    public int MessageCount => Volatile.Read(ref _messages);

    /// <summary>The INTx level.</summary>
    public bool Intx { get; private set; }

    /// <inheritdoc/>
    public void SendMsi(ulong address, uint data)
    {
        Interlocked.Increment(ref _messages);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, data);
        _ = _memory.TryWrite(new GuestAddress(address), b); // outside the window: nowhere to go, like a master abort
    }

    /// <inheritdoc/>
    public void SetIntx(bool asserted) => Intx = asserted;
}
