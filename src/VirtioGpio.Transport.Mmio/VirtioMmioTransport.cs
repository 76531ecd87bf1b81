// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VirtioGpio.Device;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Transport.Mmio;

/// <summary>
/// The virtio-mmio register file (VIRTIO 1.3 §4.2 "Virtio Over MMIO") in front of any
/// <see cref="IVirtioDevice"/>. The VMM traps the guest's accesses to the device's MMIO window and
/// hands them to <see cref="Read(ulong, Span{byte})"/> and <see cref="Write(ulong, ReadOnlySpan{byte})"/>.
/// </summary>
/// <remarks>
/// <para>Accesses the spec does not allow (wrong width or alignment, unknown offsets, writes to
/// read-only registers, queue configuration outside the FEATURES_OK..DRIVER_OK window) are ignored,
/// counted in <see cref="IgnoredAccessCount"/> and logged (rate-limited); they never throw.</para>
/// <para>Thread safety: register accesses may come from several vCPU threads; they are serialised.
/// Device notifications may arrive from any thread.</para>
/// </remarks>
/// <example>
/// <code>
/// var transport = new VirtioMmioTransport(device, guestMemory, irqLine);
/// // in the VMM's MMIO exit handler:
/// if (isWrite) transport.Write(address - windowBase, data); else transport.Read(address - windowBase, data);
/// </code>
/// </example>
public sealed partial class VirtioMmioTransport : IVirtioInterruptSink
{
    /// <summary>The MagicValue register's content, "virt" in little-endian ASCII.</summary>
    public const uint MagicValue = 0x74726976;

    private const uint InterruptUsedBuffer = 1;
    private const uint InterruptConfigChange = 2;
    private const uint LegacyDefaultQueueAlign = 4096;

    private readonly IVirtioDevice _device;
    private readonly IGuestMemory _memory;
    private readonly IVirtioMmioInterruptLine _line;
    private readonly ILogger _logger;
    private readonly int _version;
    private readonly uint _vendorId;
    private readonly object _gate = new();     // serialises register accesses (held while calling the device)
    private readonly object _irqGate = new();  // guards InterruptStatus; never held while calling the device
    private readonly QueueRegisters[] _queues;
    private readonly VirtioStatusRegister _status;

    private uint _interruptStatus;
    private bool _lineAsserted;
    private uint _deviceFeaturesSel;
    private uint _driverFeaturesSel;
    private ulong _driverFeatures;
    private uint _queueSel;
    private uint _legacyPageSize = 4096;
    private long _ignored;

    /// <summary>Creates the register file for <paramref name="device"/>.</summary>
    /// <param name="device">The device behind the transport.</param>
    /// <param name="memory">Guest memory, handed to the device at DRIVER_OK.</param>
    /// <param name="interruptLine">The VMM's interrupt line for this device.</param>
    /// <param name="options">Options; <see langword="null"/> for defaults.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The version is not 1 or 2.</exception>
    public VirtioMmioTransport(IVirtioDevice device, IGuestMemory memory, IVirtioMmioInterruptLine interruptLine, VirtioMmioTransportOptions? options = null)
    {
        _device = device ?? throw new ArgumentNullException(nameof(device));
        _memory = memory ?? throw new ArgumentNullException(nameof(memory));
        _line = interruptLine ?? throw new ArgumentNullException(nameof(interruptLine));
        options ??= new VirtioMmioTransportOptions();
        if (options.Version is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Version, "The virtio-mmio version must be 1 (legacy) or 2.");
        }

        _version = options.Version;
        _vendorId = options.VendorId;
        _logger = options.Logger ?? NullLogger.Instance;
        _status = new VirtioStatusRegister(device);
        _queues = new QueueRegisters[device.QueueCount];
        for (int i = 0; i < _queues.Length; i++)
        {
            _queues[i] = new QueueRegisters();
        }
    }

    /// <summary>The device behind the transport.</summary>
    public IVirtioDevice Device => _device;

    /// <summary>Size of the MMIO window the VMM should map: registers plus the device configuration space.</summary>
    public int WindowSize => (int)VirtioMmioRegister.Config + _device.ConfigSize;

    /// <summary>Number of accesses ignored because the spec does not allow them.</summary>
    public long IgnoredAccessCount => Interlocked.Read(ref _ignored);

    /// <summary>The current InterruptStatus bits.</summary>
    public uint InterruptStatus
    {
        get
        {
            lock (_irqGate)
            {
                return _interruptStatus;
            }
        }
    }

    /// <summary>The device status as the driver would read it (DEVICE_NEEDS_RESET included).</summary>
    public VirtioDeviceStatus Status
    {
        get
        {
            lock (_gate)
            {
                return (VirtioDeviceStatus)ReadStatus();
            }
        }
    }

    /// <summary>Handles a guest read of <c>data.Length</c> bytes at <paramref name="offset"/> in the device's window.</summary>
    /// <param name="offset">Offset from the start of the window.</param>
    /// <param name="data">Receives the value, little-endian; zero-filled when the access is ignored.</param>
    public void Read(ulong offset, Span<byte> data)
    {
        data.Clear();
        lock (_gate)
        {
            if (offset >= (ulong)VirtioMmioRegister.Config)
            {
                ReadConfig(offset - (ulong)VirtioMmioRegister.Config, data);
                return;
            }

            // VIRTIO 1.3 §4.2.2.2 "Driver Requirements: MMIO Device Register Layout": control
            // registers are accessed with 32-bit aligned accesses only; others are ignored (as QEMU does).
            if (data.Length != 4 || (offset & 3) != 0)
            {
                Ignore(offset, data.Length, write: false);
                return;
            }

            if (!TryReadRegister((VirtioMmioRegister)offset, out uint value))
            {
                Ignore(offset, data.Length, write: false);
                return;
            }

            BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        }
    }

    /// <summary>Handles a guest write of <c>data.Length</c> bytes at <paramref name="offset"/> in the device's window.</summary>
    /// <param name="offset">Offset from the start of the window.</param>
    /// <param name="data">The value written, little-endian.</param>
    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            if (offset >= (ulong)VirtioMmioRegister.Config)
            {
                WriteConfig(offset - (ulong)VirtioMmioRegister.Config, data);
                return;
            }

            if (data.Length != 4 || (offset & 3) != 0)
            {
                Ignore(offset, data.Length, write: true);
                return;
            }

            if (!TryWriteRegister((VirtioMmioRegister)offset, BinaryPrimitives.ReadUInt32LittleEndian(data)))
            {
                Ignore(offset, data.Length, write: true);
            }
        }
    }

    /// <inheritdoc/>
    void IVirtioInterruptSink.NotifyUsedBuffers(int queueIndex) => RaiseInterrupt(InterruptUsedBuffer);

    /// <inheritdoc/>
    void IVirtioInterruptSink.NotifyConfigChange() => RaiseInterrupt(InterruptConfigChange);

    private bool TryReadRegister(VirtioMmioRegister register, out uint value)
    {
        QueueRegisters? q = SelectedQueue;
        value = 0;
        switch (register)
        {
            case VirtioMmioRegister.MagicValue:
                value = MagicValue;
                return true;
            case VirtioMmioRegister.Version:
                value = (uint)_version;
                return true;
            case VirtioMmioRegister.DeviceId:
                value = _device.DeviceId;
                return true;
            case VirtioMmioRegister.VendorId:
                value = _vendorId;
                return true;
            case VirtioMmioRegister.DeviceFeatures:
                // Feature bits beyond the two 32-bit pages read as zero.
                value = _deviceFeaturesSel switch
                {
                    0 => (uint)_device.DeviceFeatures,
                    1 => (uint)(_device.DeviceFeatures >> 32),
                    _ => 0,
                };
                return true;
            case VirtioMmioRegister.QueueSizeMax:
                value = q is null ? 0u : _device.GetQueue((int)_queueSel).MaxSize;
                return true;
            case VirtioMmioRegister.QueueReady when _version == 2:
                value = q is { Ready: true } ? 1u : 0u;
                return true;
            case VirtioMmioRegister.LegacyQueuePfn when _version == 1:
                value = q?.LegacyPfn ?? 0;
                return true;
            case VirtioMmioRegister.InterruptStatus:
                value = InterruptStatus;
                return true;
            case VirtioMmioRegister.Status:
                value = ReadStatus();
                return true;
            case VirtioMmioRegister.ShmLenLow or VirtioMmioRegister.ShmLenHigh
                or VirtioMmioRegister.ShmBaseLow or VirtioMmioRegister.ShmBaseHigh when _version == 2:
                // No shared memory regions: a non-existent region reads as length and base -1
                // (VIRTIO 1.3 §4.2.2 "MMIO Device Register Layout", SHMLen/SHMBase).
                value = uint.MaxValue;
                return true;
            case VirtioMmioRegister.QueueReset when _version == 2:
                // Resets complete synchronously, so a read never observes one in progress.
                value = 0;
                return true;
            case VirtioMmioRegister.ConfigGeneration when _version == 2:
                value = _device.ConfigGeneration;
                return true;
            default:
                return false; // write-only or unknown register
        }
    }

    private bool TryWriteRegister(VirtioMmioRegister register, uint value)
    {
        QueueRegisters? configurable = ConfigurableQueue;
        switch (register)
        {
            case VirtioMmioRegister.DeviceFeaturesSel:
                _deviceFeaturesSel = value;
                return true;
            case VirtioMmioRegister.DriverFeaturesSel:
                _driverFeaturesSel = value;
                return true;
            case VirtioMmioRegister.DriverFeatures:
                return WriteDriverFeatures(value);
            case VirtioMmioRegister.LegacyGuestPageSize when _version == 1:
                if (value == 0 || (value & (value - 1)) != 0)
                {
                    return false;
                }

                _legacyPageSize = value;
                return true;
            case VirtioMmioRegister.QueueSel:
                _queueSel = value;
                return true;
            case VirtioMmioRegister.QueueSize:
                if (configurable is null)
                {
                    return false;
                }

                configurable.Size = value;
                return true;
            case VirtioMmioRegister.LegacyQueueAlign when _version == 1:
                if (configurable is null)
                {
                    return false;
                }

                configurable.LegacyAlign = value;
                return true;
            case VirtioMmioRegister.LegacyQueuePfn when _version == 1:
                return WriteLegacyPfn(value);
            case VirtioMmioRegister.QueueReady when _version == 2:
                return WriteQueueReady(value);
            case VirtioMmioRegister.QueueDescLow when _version == 2:
                if (configurable is null)
                {
                    return false;
                }

                configurable.Desc = (configurable.Desc & 0xFFFF_FFFF_0000_0000) | value;
                return true;
            case VirtioMmioRegister.QueueDescHigh when _version == 2:
                if (configurable is null)
                {
                    return false;
                }

                configurable.Desc = (configurable.Desc & 0xFFFF_FFFF) | ((ulong)value << 32);
                return true;
            case VirtioMmioRegister.QueueDriverLow when _version == 2:
                if (configurable is null)
                {
                    return false;
                }

                configurable.Driver = (configurable.Driver & 0xFFFF_FFFF_0000_0000) | value;
                return true;
            case VirtioMmioRegister.QueueDriverHigh when _version == 2:
                if (configurable is null)
                {
                    return false;
                }

                configurable.Driver = (configurable.Driver & 0xFFFF_FFFF) | ((ulong)value << 32);
                return true;
            case VirtioMmioRegister.QueueDeviceLow when _version == 2:
                if (configurable is null)
                {
                    return false;
                }

                configurable.Device = (configurable.Device & 0xFFFF_FFFF_0000_0000) | value;
                return true;
            case VirtioMmioRegister.QueueDeviceHigh when _version == 2:
                if (configurable is null)
                {
                    return false;
                }

                configurable.Device = (configurable.Device & 0xFFFF_FFFF) | ((ulong)value << 32);
                return true;
            case VirtioMmioRegister.QueueNotify:
                // VIRTIO 1.3 §4.2.3.4 "Available Buffer Notifications". Only a running device is
                // notified; an early kick is not lost because enabling a queue scans its avail ring.
                if (_status.IsDriverOk && (value & 0xFFFF) < (uint)_queues.Length)
                {
                    _device.NotifyQueue((int)(value & 0xFFFF));
                }

                return true;
            case VirtioMmioRegister.InterruptAck:
                AcknowledgeInterrupt(value);
                return true;
            case VirtioMmioRegister.Status:
                WriteStatus(value);
                return true;
            case VirtioMmioRegister.ShmSel when _version == 2:
                return true; // there are no regions to select
            case VirtioMmioRegister.QueueReset when _version == 2:
                return WriteQueueReset(value);
            default:
                return false; // read-only or unknown register
        }
    }

    private QueueRegisters? SelectedQueue => _queueSel < (uint)_queues.Length ? _queues[_queueSel] : null;

    private bool InQueueSetupWindow =>
        _version == 1
            ? !_status.IsDriverOk
            : _status.InQueueSetupWindow;

    // VIRTIO 1.3 §4.2.3.2 "Virtqueue Configuration": queue registers are written after FEATURES_OK
    // and before DRIVER_OK, while the queue is not ready. Writes at other times are ignored
    // (Firecracker CVE-2026-5747 came from accepting them after activation).
    private QueueRegisters? ConfigurableQueue => SelectedQueue is { Ready: false } q && InQueueSetupWindow ? q : null;

    private bool WriteDriverFeatures(uint value)
    {
        // VIRTIO 1.3 §3.1.1 "Driver Requirements: Device Initialization": features are written
        // before FEATURES_OK; afterwards they are frozen.
        if (_status.FeaturesFrozen)
        {
            return false;
        }

        switch (_driverFeaturesSel)
        {
            case 0:
                _driverFeatures = (_driverFeatures & 0xFFFF_FFFF_0000_0000) | value;
                return true;
            case 1 when _version == 2:
                _driverFeatures = (_driverFeatures & 0xFFFF_FFFF) | ((ulong)value << 32);
                return true;
            default:
                return false;
        }
    }

    private bool WriteQueueReady(uint value)
    {
        QueueRegisters? q = SelectedQueue;
        if (q is null)
        {
            return false;
        }

        if (value == 0)
        {
            // Stopping a queue is always allowed; the device stops touching it before we return.
            if (q.Ready)
            {
                q.Ready = false;
                _device.SetQueueReady((int)_queueSel, false);
            }

            return true;
        }

        if (q.Ready || !InQueueSetupWindow)
        {
            return false;
        }

        // The queue's parameters are checked now; an invalid setup leaves QueueReady at 0, which the
        // driver reads back (VIRTIO 1.3 §4.2.3.2).
        if (ConfigureQueue((int)_queueSel, q, new GuestAddress(q.Desc), new GuestAddress(q.Driver), new GuestAddress(q.Device)))
        {
            q.Ready = true;
        }

        return true;
    }

    private bool WriteLegacyPfn(uint pfn)
    {
        QueueRegisters? q = SelectedQueue;
        if (q is null)
        {
            return false;
        }

        if (pfn == 0)
        {
            if (q.Ready)
            {
                q.Ready = false;
                _device.SetQueueReady((int)_queueSel, false);
            }

            q.LegacyPfn = 0;
            return true;
        }

        if (q.Ready || !InQueueSetupWindow)
        {
            return false;
        }

        // VIRTIO 1.3 §4.2.4 "Legacy interface" and §2.7.2 "Legacy Interfaces: A Note on Virtqueue
        // Layout": descriptor table at PFN * page size, avail ring right after it, used ring at the
        // next QueueAlign boundary.
        ulong size = q.Size;
        ulong align = q.LegacyAlign == 0 ? LegacyDefaultQueueAlign : q.LegacyAlign;
        if ((align & (align - 1)) != 0)
        {
            return false;
        }

        ulong desc = (ulong)pfn * _legacyPageSize;
        ulong avail = desc + (16 * size);
        ulong used = (avail + 6 + (2 * size) + align - 1) & ~(align - 1);
        if (ConfigureQueue((int)_queueSel, q, new GuestAddress(desc), new GuestAddress(avail), new GuestAddress(used)))
        {
            q.LegacyPfn = pfn;
            q.Ready = true;
        }

        return true;
    }

    private bool ConfigureQueue(int index, QueueRegisters q, GuestAddress desc, GuestAddress avail, GuestAddress used)
    {
        SplitQueue queue = _device.GetQueue(index);
        if (q.Size == 0 || q.Size > ushort.MaxValue || !queue.TrySetSize((int)q.Size) || !queue.TrySetAddresses(desc, avail, used))
        {
            LogQueueSetupRefused(index, q.Size, desc.Value, avail.Value, used.Value);
            return false;
        }

        return true;
    }

    private bool WriteQueueReset(uint value)
    {
        // VIRTIO 1.3 §4.2.3.5 "Virtqueue Reset": only with VIRTIO_F_RING_RESET negotiated.
        QueueRegisters? q = SelectedQueue;
        if (q is null || value != 1 || (_device.DriverFeatures & VirtioFeatures.RingReset) == 0)
        {
            return false;
        }

        _device.SetQueueReady((int)_queueSel, false);
        _device.ResetQueue((int)_queueSel);
        _device.GetQueue((int)_queueSel).Reset();
        q.Clear();
        return true;
    }

    private uint ReadStatus() => _status.Read();

    private void WriteStatus(uint value)
    {
        byte requested = (byte)value;
        if (requested == 0)
        {
            ResetDevice();
            return;
        }

        byte before = _status.Value;
        switch (_status.Write(requested, _driverFeatures, legacy: _version == 1))
        {
            case StatusWrite.ClearsBits:
                LogStatusBitsCleared(before, requested);
                Interlocked.Increment(ref _ignored);
                break;
            case StatusWrite.FeaturesRefused:
                LogFeaturesRefused(_driverFeatures, _device.DeviceFeatures);
                break;
            case StatusWrite.DriverOkWithoutFeatures:
                LogDriverOkWithoutFeatures();
                break;
            case StatusWrite.DriverOk:
                _status.Activate(_memory, this, i => _queues[i].Ready, LogQueueActivationFailed);
                break;
        }
    }

    private void ResetDevice()
    {
        // VIRTIO 1.3 §4.2.2.1 "Device Requirements: MMIO Device Register Layout": on reset the
        // device clears InterruptStatus and QueueReady (and everything else).
        _device.Reset();
        foreach (QueueRegisters q in _queues)
        {
            q.Clear();
        }

        _status.Clear();
        _driverFeatures = 0;
        _deviceFeaturesSel = 0;
        _driverFeaturesSel = 0;
        _queueSel = 0;
        _legacyPageSize = 4096;
        lock (_irqGate)
        {
            _interruptStatus = 0;
            UpdateLineLocked();
        }
    }

    private void ReadConfig(ulong offset, Span<byte> data)
    {
        if (!IsValidConfigAccess(offset, data.Length))
        {
            Ignore(offset + (ulong)VirtioMmioRegister.Config, data.Length, write: false);
            return;
        }

        _device.ReadConfig((uint)offset, data);
    }

    private void WriteConfig(ulong offset, ReadOnlySpan<byte> data)
    {
        if (!IsValidConfigAccess(offset, data.Length))
        {
            Ignore(offset + (ulong)VirtioMmioRegister.Config, data.Length, write: true);
            return;
        }

        _device.WriteConfig((uint)offset, data);
    }

    private static bool IsValidConfigAccess(ulong offset, int length) =>
        // VIRTIO 1.3 §4.2.2.2: 8-, 16- and 32-bit accesses, naturally aligned (64-bit fields are
        // read as two 32-bit halves). Anything else is ignored.
        length is 1 or 2 or 4 && (offset & (ulong)(length - 1)) == 0 && offset < uint.MaxValue;

    private void RaiseInterrupt(uint bit)
    {
        lock (_irqGate)
        {
            _interruptStatus |= bit;
            UpdateLineLocked();
        }
    }

    private void AcknowledgeInterrupt(uint value)
    {
        lock (_irqGate)
        {
            // VIRTIO 1.3 §4.2.2.1: bits stay set until acknowledged; undefined bits stay zero.
            _interruptStatus &= ~(value & (InterruptUsedBuffer | InterruptConfigChange));
            UpdateLineLocked();
        }
    }

    private void UpdateLineLocked()
    {
        bool assert = _interruptStatus != 0;
        if (assert != _lineAsserted)
        {
            _lineAsserted = assert;
            _line.SetLevel(assert);
        }
    }

    private void Ignore(ulong offset, int width, bool write)
    {
        long n = Interlocked.Increment(ref _ignored);
        // Rate limit: the first 16, then every power of two.
        if (n <= 16 || (n & (n - 1)) == 0)
        {
            LogIgnoredAccess(write ? "write" : "read", offset, width, n);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "virtio-mmio: ignored {Kind} of {Width} byte(s) at offset 0x{Offset:x} ({Count} ignored so far)")]
    private partial void LogIgnoredAccess(string kind, ulong offset, int width, long count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "virtio-mmio: queue {Queue} setup refused (size {Size}, desc 0x{Desc:x}, driver 0x{Driver:x}, device 0x{Device:x})")]
    private partial void LogQueueSetupRefused(int queue, uint size, ulong desc, ulong driver, ulong device);

    [LoggerMessage(Level = LogLevel.Debug, Message = "virtio-mmio: queue {Queue} could not be activated: {Error}")]
    private partial void LogQueueActivationFailed(int queue, VirtqueueError error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "virtio-mmio: FEATURES_OK refused, driver features 0x{Driver:x} not within offered 0x{Offered:x}")]
    private partial void LogFeaturesRefused(ulong driver, ulong offered);

    [LoggerMessage(Level = LogLevel.Debug, Message = "virtio-mmio: DRIVER_OK without FEATURES_OK ignored")]
    private partial void LogDriverOkWithoutFeatures();

    [LoggerMessage(Level = LogLevel.Debug, Message = "virtio-mmio: status write 0x{Requested:x2} clears bits of 0x{Current:x2}; ignored")]
    private partial void LogStatusBitsCleared(byte current, byte requested);

    private sealed class QueueRegisters
    {
        public uint Size;
        public ulong Desc;
        public ulong Driver;
        public ulong Device;
        public bool Ready;
        public uint LegacyAlign;
        public uint LegacyPfn;

        public void Clear()
        {
            Size = 0;
            Desc = 0;
            Driver = 0;
            Device = 0;
            Ready = false;
            LegacyAlign = 0;
            LegacyPfn = 0;
        }
    }
}
