// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Globalization;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>
/// Executes register scripts against one of OUR transports in-process: a real <see cref="VirtioGpioDevice"/> with
/// simulated lines behind it and a <see cref="RegionGuestMemory"/> whose one region sits where the guest's reserved
/// RAM window is. Records every value read under the same keys the guest prints.
/// </summary>
public abstract class TransportReplayer : IDisposable
{
    private readonly byte[] _ram = new byte[DifferentialLayout.RamSize];
    private readonly Dictionary<string, string> _results = new(StringComparer.Ordinal);

    /// <summary>Creates the device (same options as the daemon's) and the guest memory.</summary>
    protected TransportReplayer(VirtioGpioDeviceOptions deviceOptions)
    {
        ArgumentNullException.ThrowIfNull(deviceOptions);
        Memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(DifferentialLayout.RamBase), _ram));
        Device = new VirtioGpioDevice(deviceOptions);
    }

    /// <summary>The device behind the transport.</summary>
    public VirtioGpioDevice Device { get; }

    /// <summary>The simulated lines.</summary>
    public SimulatedGpioLineBackend Lines => (SimulatedGpioLineBackend)Device.Backend;

    /// <summary>Guest memory: the RAM window only.</summary>
    public RegionGuestMemory Memory { get; }

    /// <summary>Every value read so far, by key (<c>script#op[.part]</c>), formatted as the guest formats it.</summary>
    public IReadOnlyDictionary<string, string> Results => _results;

    /// <summary>Runs every operation of <paramref name="script"/>.</summary>
    public void Run(RegisterScript script)
    {
        ArgumentNullException.ThrowIfNull(script);
        foreach (ScriptOp op in script.Ops)
        {
            string key = op.Key(script.Name);
            switch (op.Kind)
            {
                case ScriptOpKind.Read:
                case ScriptOpKind.Poll:
                    // Our transports complete synchronously: the first read already shows the final value.
                    Record(key, Hex(Read(op.Region, op.Offset, op.Width)));
                    break;
                case ScriptOpKind.Write:
                    Write(op.Region, op.Offset, op.Width, Resolve(op.Value));
                    break;
                case ScriptOpKind.Capabilities:
                    WalkCapabilities(key);
                    break;
                case ScriptOpKind.BarSize:
                    SizeBar(key, op.Region);
                    break;
                case ScriptOpKind.Settle:
                    break; // synchronous: nothing is pending

                default:
                    throw new InvalidOperationException(op.Kind.ToString());
            }
        }
    }

    /// <summary>Formats a value as the comparison does.</summary>
    public static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Records one value.</summary>
    protected void Record(string key, string value) => _results[key] = value;

    /// <summary>One read of <paramref name="width"/> bits.</summary>
    protected ulong Read(string region, ulong offset, int width)
    {
        Span<byte> data = stackalloc byte[8];
        data = data[..(width / 8)];
        if (region == ScriptRegions.Ram)
        {
            // Like devmem on RAM the kernel does not use: plain loads.
            if (Memory.TryRead(new GuestAddress(DifferentialLayout.RamBase + offset), data) != GuestMemoryError.None)
            {
                throw new InvalidOperationException($"ram+0x{offset:x} is outside the RAM window");
            }
        }
        else
        {
            ReadRegister(region, offset, data);
        }

        Span<byte> full = stackalloc byte[8];
        full.Clear();
        data.CopyTo(full);
        return BinaryPrimitives.ReadUInt64LittleEndian(full);
    }

    /// <summary>One write of <paramref name="width"/> bits.</summary>
    protected void Write(string region, ulong offset, int width, ulong value)
    {
        Span<byte> full = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(full, value);
        ReadOnlySpan<byte> data = full[..(width / 8)];
        if (region == ScriptRegions.Ram)
        {
            if (Memory.TryWrite(new GuestAddress(DifferentialLayout.RamBase + offset), data) != GuestMemoryError.None)
            {
                throw new InvalidOperationException($"ram+0x{offset:x} is outside the RAM window");
            }
        }
        else
        {
            WriteRegister(region, offset, data);
        }
    }

    /// <summary>A register read in a transport region.</summary>
    protected abstract void ReadRegister(string region, ulong offset, Span<byte> data);

    /// <summary>A register write in a transport region.</summary>
    protected abstract void WriteRegister(string region, ulong offset, ReadOnlySpan<byte> data);

    /// <summary>Resolves <c>bar:REGION</c> and <c>off:REGION+N</c> (PCI).</summary>
    protected virtual ulong ResolveRegion(ScriptValue value) => throw new NotSupportedException(value.ToString());

    /// <summary>The <c>caps</c> operation (PCI).</summary>
    protected virtual void WalkCapabilities(string key) => throw new NotSupportedException("caps");

    /// <summary>The <c>barsize</c> operation (PCI).</summary>
    protected virtual void SizeBar(string key, string region) => throw new NotSupportedException("barsize");

    private ulong Resolve(ScriptValue value) => value.Kind switch
    {
        ScriptValueKind.Literal => value.Addend,
        ScriptValueKind.Ram => DifferentialLayout.RamBase + value.Addend,
        _ => ResolveRegion(value),
    };

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the device.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Device.Dispose();
        }
    }
}
