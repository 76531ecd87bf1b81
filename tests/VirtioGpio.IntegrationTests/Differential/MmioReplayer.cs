// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Transport.Mmio;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>Register scripts against our <see cref="VirtioMmioTransport"/>.</summary>
public sealed class MmioReplayer : TransportReplayer
{
    /// <summary>Creates the transport in front of a device built from <paramref name="deviceOptions"/>.</summary>
    public MmioReplayer(VirtioGpioDeviceOptions deviceOptions, VirtioMmioTransportOptions transportOptions)
        : base(deviceOptions)
    {
        Line = new MmioLineRecorder();
        Transport = new VirtioMmioTransport(Device, Memory, Line, transportOptions);
    }

    /// <summary>The transport under test.</summary>
    public VirtioMmioTransport Transport { get; }

    /// <summary>The interrupt line.</summary>
    public MmioLineRecorder Line { get; }

    /// <inheritdoc/>
    protected override void ReadRegister(string region, ulong offset, Span<byte> data) => Transport.Read(offset, data);

    /// <inheritdoc/>
    protected override void WriteRegister(string region, ulong offset, ReadOnlySpan<byte> data) => Transport.Write(offset, data);
}
