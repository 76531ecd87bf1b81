// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VirtioGpio.Device;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Transport.Pci;

/// <summary>
/// A virtio-pci modern function (VIRTIO 1.3 §4.1 "Virtio Over PCI Bus") in front of any
/// <see cref="IVirtioDevice"/>: the type-0 configuration space with its capability list (MSI-X,
/// COMMON_CFG, NOTIFY_CFG, ISR_CFG, DEVICE_CFG, PCI_CFG) and one 64-bit memory BAR (BAR 0/1) that holds
/// every structure and the MSI-X table and PBA.
/// </summary>
/// <remarks>
/// <para>The VMM hands configuration-space accesses to <see cref="ReadConfigSpace"/> /
/// <see cref="WriteConfigSpace"/> and accesses inside the BAR (at <see cref="BarAddress"/>, size
/// <see cref="BarSize"/>) to <see cref="ReadBar"/> / <see cref="WriteBar"/>. Interrupts leave through
/// <see cref="IVirtioPciInterruptController"/> as MSI-X messages or the INTx level.</para>
/// <para>Accesses the spec does not allow are ignored, counted in <see cref="IgnoredAccessCount"/>
/// and logged (rate-limited); nothing a guest does throws. Register accesses are serialised;
/// device notifications may arrive from any thread.</para>
/// </remarks>
public sealed partial class VirtioPciTransport : IVirtioInterruptSink
{
    /// <summary>The virtio PCI vendor ID.</summary>
    public const ushort VendorId = 0x1AF4;

    /// <summary>The MSI-X "no vector" value (VIRTIO 1.3 §4.1.5.1.2 "MSI-X Vector Configuration").</summary>
    public const ushort NoVector = 0xFFFF;

    /// <summary>Offset of the common configuration structure in the BAR.</summary>
    public const int CommonConfigOffset = 0x0000;

    /// <summary>Offset of the ISR status byte in the BAR.</summary>
    public const int IsrOffset = 0x1000;

    /// <summary>Offset of the device-specific configuration in the BAR.</summary>
    public const int DeviceConfigOffset = 0x2000;

    /// <summary>Offset of the notification area in the BAR.</summary>
    public const int NotifyOffset = 0x3000;

    /// <summary>Offset of the MSI-X table in the BAR.</summary>
    public const int MsixTableOffset = 0x4000;

    /// <summary>Offset of the MSI-X pending-bit array in the BAR.</summary>
    public const int MsixPbaOffset = 0x6000;

    /// <summary><c>notify_off_multiplier</c>: queue <c>n</c> is notified at <see cref="NotifyOffset"/> + 4·n.</summary>
    public const uint NotifyOffMultiplier = 4;

    /// <summary>Size of BAR 0 (a power of two).</summary>
    public const ulong BarSize = 0x8000;

    private const int CommonConfigLength = 0x40;
    private const int MsixCapOffset = 0x40;
    private const int FirstVirtioCapOffset = 0x4C;
    private const ushort CommandIntxDisable = 1 << 10;
    private const byte StatusInterrupt = 1 << 3;
    private const byte IsrQueue = 1;
    private const byte IsrConfig = 2;

    private readonly IVirtioDevice _device;
    private readonly IGuestMemory _memory;
    private readonly IVirtioPciInterruptController _interrupts;
    private readonly ILogger _logger;
    private readonly object _gate = new();    // register accesses; held while calling into the device
    private readonly object _irqGate = new(); // ISR, INTx, MSI-X state; never held while calling the device
    private readonly byte[] _config = new byte[256];
    private readonly byte[] _writeMask = new byte[256];
    private readonly QueueRegisters[] _queues;
    private readonly int _vectorCount;
    private readonly byte[] _msixTable;
    private readonly ulong[] _msixPending;
    private readonly int _pciCfgCapOffset;
    private readonly VirtioStatusRegister _status;

    private uint _deviceFeatureSelect;
    private uint _driverFeatureSelect;
    private ulong _driverFeatures;
    private ushort _queueSelect;
    private ushort _configVector = NoVector;
    private byte _isr;
    private bool _intxAsserted;
    private long _ignored;

    /// <summary>Creates the PCI function for <paramref name="device"/>.</summary>
    /// <param name="device">The device behind the transport.</param>
    /// <param name="memory">Guest memory, handed to the device at DRIVER_OK.</param>
    /// <param name="interrupts">MSI-X and INTx delivery.</param>
    /// <param name="options">Options; <see langword="null"/> for defaults.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The MSI-X vector count is out of 0..2048.</exception>
    public VirtioPciTransport(IVirtioDevice device, IGuestMemory memory, IVirtioPciInterruptController interrupts, VirtioPciTransportOptions? options = null)
    {
        _device = device ?? throw new ArgumentNullException(nameof(device));
        _memory = memory ?? throw new ArgumentNullException(nameof(memory));
        _interrupts = interrupts ?? throw new ArgumentNullException(nameof(interrupts));
        options ??= new VirtioPciTransportOptions();
        _logger = options.Logger ?? NullLogger.Instance;
        _vectorCount = options.MsixVectorCount ?? (device.QueueCount + 1);
        if (_vectorCount is < 0 or > 2048)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _vectorCount, "MSI-X supports 1..2048 vectors (0 disables MSI-X).");
        }

        _status = new VirtioStatusRegister(device);
        _queues = new QueueRegisters[device.QueueCount];
        for (int i = 0; i < _queues.Length; i++)
        {
            _queues[i] = new QueueRegisters(device.GetQueue(i).MaxSize);
        }

        _msixTable = new byte[16 * _vectorCount];
        for (int v = 0; v < _vectorCount; v++)
        {
            _msixTable[(16 * v) + 12] = 1; // vector control: masked at reset (PCI Local Bus 3.0 §6.8.2.9)
        }

        _msixPending = new ulong[(_vectorCount + 63) / 64];
        _pciCfgCapOffset = BuildConfigSpace(options);
    }

    /// <summary>The device behind the transport.</summary>
    public IVirtioDevice Device => _device;

    /// <summary>The guest address BAR 0/1 is programmed to (0 until the guest assigns it).</summary>
    public ulong BarAddress
    {
        get
        {
            lock (_gate)
            {
                return (BinaryPrimitives.ReadUInt32LittleEndian(_config.AsSpan(0x10)) & ~0xFu) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(_config.AsSpan(0x14)) << 32);
            }
        }
    }

    /// <summary>Whether the guest enabled memory-space decoding (command register bit 1).</summary>
    public bool MemorySpaceEnabled
    {
        get
        {
            lock (_gate)
            {
                return (_config[0x04] & 0x02) != 0;
            }
        }
    }

    /// <summary>Number of accesses ignored because the spec does not allow them.</summary>
    public long IgnoredAccessCount => Interlocked.Read(ref _ignored);

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

    /// <summary>Handles a read of the function's configuration space.</summary>
    /// <param name="offset">Offset 0..255; reads beyond return zeros.</param>
    /// <param name="data">Receives the value (1, 2 or 4 bytes, little-endian).</param>
    public void ReadConfigSpace(int offset, Span<byte> data)
    {
        data.Clear();
        lock (_gate)
        {
            if (offset < 0 || data.Length is not (1 or 2 or 4) || offset + data.Length > _config.Length)
            {
                Ignore("config read", (ulong)Math.Max(offset, 0), data.Length);
                return;
            }

            int dataField = _pciCfgCapOffset + 16;
            if (offset < dataField + 4 && offset + data.Length > dataField)
            {
                // VIRTIO 1.3 §4.1.4.9 "PCI configuration access capability": a read of
                // pci_cfg_data reads the selected BAR window.
                RefreshPciCfgData();
            }

            _config.AsSpan(offset, data.Length).CopyTo(data);
            if (offset <= 0x06 && offset + data.Length > 0x06)
            {
                // VIRTIO 1.3 §4.1.4.5.1 "Device Requirements: ISR status capability": with MSI-X disabled the
                // device sets the Interrupt Status bit of the PCI Status register to the OR of all ISR status bits
                // (independent of INTx Disable, PCI Local Bus 3.0 §6.2.3).
                bool pending;
                lock (_irqGate)
                {
                    pending = _isr != 0 && !MsixEnabled;
                }

                int at = 0x06 - offset;
                data[at] = pending ? (byte)(data[at] | StatusInterrupt) : (byte)(data[at] & ~StatusInterrupt);
            }
        }
    }

    /// <summary>Handles a write to the function's configuration space; read-only bits are preserved.</summary>
    /// <param name="offset">Offset 0..255.</param>
    /// <param name="data">The value written (1, 2 or 4 bytes, little-endian).</param>
    public void WriteConfigSpace(int offset, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            if (offset < 0 || data.Length is not (1 or 2 or 4) || offset + data.Length > _config.Length)
            {
                Ignore("config write", (ulong)Math.Max(offset, 0), data.Length);
                return;
            }

            for (int i = 0; i < data.Length; i++)
            {
                int o = offset + i;
                _config[o] = (byte)((_config[o] & ~_writeMask[o]) | (data[i] & _writeMask[o]));
            }

            int dataField = _pciCfgCapOffset + 16;
            if (offset < dataField + 4 && offset + data.Length > dataField)
            {
                WritePciCfgData();
            }

            if (offset <= 0x05 && offset + data.Length > 0x04)
            {
                UpdateIntx(); // INTx disable bit may have changed
            }

            if (_vectorCount > 0 && offset <= MsixCapOffset + 3 && offset + data.Length > MsixCapOffset + 2)
            {
                DeliverUnmaskedPending();
            }
        }
    }

    /// <summary>Handles a guest read inside BAR 0 (BAR index 0; the 64-bit BAR spans BAR 0 and 1).</summary>
    /// <param name="barIndex">The BAR; only 0 exists.</param>
    /// <param name="offset">Offset from the start of the BAR.</param>
    /// <param name="data">Receives the value, little-endian; zero-filled when ignored.</param>
    public void ReadBar(int barIndex, ulong offset, Span<byte> data)
    {
        data.Clear();
        lock (_gate)
        {
            if (barIndex != 0 || !ReadBarLocked(offset, data))
            {
                Ignore("BAR read", offset, data.Length);
            }
        }
    }

    /// <summary>Handles a guest write inside BAR 0.</summary>
    /// <param name="barIndex">The BAR; only 0 exists.</param>
    /// <param name="offset">Offset from the start of the BAR.</param>
    /// <param name="data">The value written, little-endian.</param>
    public void WriteBar(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            if (barIndex != 0 || !WriteBarLocked(offset, data))
            {
                Ignore("BAR write", offset, data.Length);
            }
        }
    }

    /// <inheritdoc/>
    void IVirtioInterruptSink.NotifyUsedBuffers(int queueIndex)
    {
        lock (_irqGate)
        {
            if (MsixEnabled)
            {
                ushort vector = (uint)queueIndex < (uint)_queues.Length ? _queues[queueIndex].Vector : NoVector;
                SignalVectorLocked(vector);
            }
            else
            {
                // VIRTIO 1.3 §4.1.5.3 "Used Buffer Notifications": without MSI-X the device sets the
                // queue interrupt bit in ISR status and asserts INTx.
                _isr |= IsrQueue;
                UpdateIntxLocked();
            }
        }
    }

    /// <inheritdoc/>
    void IVirtioInterruptSink.NotifyConfigChange()
    {
        lock (_irqGate)
        {
            // VIRTIO 1.3 §4.1.5.2 "Notification of Device Configuration Changes": the config bit is
            // set in ISR status in either mode.
            _isr |= IsrConfig;
            if (MsixEnabled)
            {
                SignalVectorLocked(_configVector);
            }
            else
            {
                UpdateIntxLocked();
            }
        }
    }

    private bool MsixEnabled => _vectorCount > 0 && (_config[MsixCapOffset + 3] & 0x80) != 0;

    private bool MsixFunctionMasked => (_config[MsixCapOffset + 3] & 0x40) != 0;

    private int BuildConfigSpace(VirtioPciTransportOptions options)
    {
        Span<byte> c = _config;
        BinaryPrimitives.WriteUInt16LittleEndian(c, VendorId);
        // VIRTIO 1.3 §4.1.2.1 "Device Requirements: PCI Device Discovery": 0x1040 + device ID.
        BinaryPrimitives.WriteUInt16LittleEndian(c.Slice(0x02), (ushort)(0x1040 + _device.DeviceId));
        BinaryPrimitives.WriteUInt16LittleEndian(c.Slice(0x06), 0x0010); // status: capabilities list
        c[0x08] = 1; // revision ID ≥ 1: modern-only device
        c[0x09] = (byte)options.ClassCode;
        c[0x0A] = (byte)(options.ClassCode >> 8);
        c[0x0B] = (byte)(options.ClassCode >> 16);
        c[0x0E] = 0; // header type 0
        BinaryPrimitives.WriteUInt32LittleEndian(c.Slice(0x10), 0x4); // 64-bit memory BAR, non-prefetchable
        BinaryPrimitives.WriteUInt16LittleEndian(c.Slice(0x2C), options.SubsystemVendorId);
        BinaryPrimitives.WriteUInt16LittleEndian(c.Slice(0x2E), options.SubsystemId ?? (ushort)Math.Min(0xFFFF, 0x40 + _device.DeviceId));
        c[0x3D] = 1; // interrupt pin INTA#

        // Writable bits: command (memory space, bus master, INTx disable), BAR 0/1 address bits,
        // interrupt line.
        _writeMask[0x04] = 0x06;
        _writeMask[0x05] = 0x04;
        uint barMask = unchecked((uint)~(BarSize - 1));
        BinaryPrimitives.WriteUInt32LittleEndian(_writeMask.AsSpan(0x10), barMask);
        BinaryPrimitives.WriteUInt32LittleEndian(_writeMask.AsSpan(0x14), 0xFFFF_FFFF);
        _writeMask[0x3C] = 0xFF;

        int next = FirstVirtioCapOffset;
        if (_vectorCount > 0)
        {
            c[0x34] = MsixCapOffset;
            c[MsixCapOffset] = 0x11; // MSI-X
            c[MsixCapOffset + 1] = FirstVirtioCapOffset;
            BinaryPrimitives.WriteUInt16LittleEndian(c.Slice(MsixCapOffset + 2), (ushort)(_vectorCount - 1));
            BinaryPrimitives.WriteUInt32LittleEndian(c.Slice(MsixCapOffset + 4), MsixTableOffset); // BIR 0
            BinaryPrimitives.WriteUInt32LittleEndian(c.Slice(MsixCapOffset + 8), MsixPbaOffset);   // BIR 0
            _writeMask[MsixCapOffset + 3] = 0xC0; // MSI-X enable, function mask
        }
        else
        {
            c[0x34] = FirstVirtioCapOffset;
        }

        next = WriteVirtioCap(next, VirtioPciCapabilityType.CommonConfig, CommonConfigOffset, CommonConfigLength, 16, last: false);
        int notify = next;
        next = WriteVirtioCap(next, VirtioPciCapabilityType.NotifyConfig, NotifyOffset, (uint)(NotifyOffMultiplier * Math.Max(1, _queues.Length)), 20, last: false);
        BinaryPrimitives.WriteUInt32LittleEndian(c.Slice(notify + 16), NotifyOffMultiplier);
        next = WriteVirtioCap(next, VirtioPciCapabilityType.IsrConfig, IsrOffset, 1, 16, last: false);
        next = WriteVirtioCap(next, VirtioPciCapabilityType.DeviceConfig, DeviceConfigOffset, (uint)Math.Max(1, _device.ConfigSize), 16, last: false);
        int pciCfg = next;
        WriteVirtioCap(next, VirtioPciCapabilityType.PciConfig, 0, 0, 20, last: true);
        // pci_cfg access window: bar (1 byte), offset (4), length (4) and data (4) are writable.
        _writeMask[pciCfg + 4] = 0xFF;
        for (int i = 8; i < 20; i++)
        {
            _writeMask[pciCfg + i] = 0xFF;
        }

        return pciCfg;
    }

    private int WriteVirtioCap(int at, VirtioPciCapabilityType type, uint offset, uint length, int capLength, bool last)
    {
        // VIRTIO 1.3 §4.1.4 "Virtio Structure PCI Capabilities": struct virtio_pci_cap.
        Span<byte> c = _config.AsSpan(at);
        c[0] = 0x09; // vendor-specific
        c[1] = last ? (byte)0 : (byte)(at + capLength);
        c[2] = (byte)capLength;
        c[3] = (byte)type;
        c[4] = 0; // BAR 0
        c[5] = 0; // id
        BinaryPrimitives.WriteUInt32LittleEndian(c.Slice(8), offset);
        BinaryPrimitives.WriteUInt32LittleEndian(c.Slice(12), length);
        return at + capLength;
    }

    private void RefreshPciCfgData()
    {
        Span<byte> cap = _config.AsSpan(_pciCfgCapOffset);
        byte bar = cap[4];
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(cap.Slice(8));
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(cap.Slice(12));
        Span<byte> data = cap.Slice(16, 4);
        data.Clear();
        // VIRTIO 1.3 §4.1.4.9.1: length 1, 2 or 4, offset aligned to length, BAR in range.
        if (bar == 0 && length is 1 or 2 or 4 && offset % length == 0)
        {
            if (!ReadBarLocked(offset, data.Slice(0, (int)length)))
            {
                Ignore("pci_cfg read", offset, (int)length);
            }
        }
    }

    private void WritePciCfgData()
    {
        Span<byte> cap = _config.AsSpan(_pciCfgCapOffset);
        byte bar = cap[4];
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(cap.Slice(8));
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(cap.Slice(12));
        if (bar == 0 && length is 1 or 2 or 4 && offset % length == 0)
        {
            if (!WriteBarLocked(offset, cap.Slice(16, (int)length)))
            {
                Ignore("pci_cfg write", offset, (int)length);
            }
        }
    }

    private bool ReadBarLocked(ulong offset, Span<byte> data)
    {
        if (data.Length is not (1 or 2 or 4 or 8))
        {
            return false;
        }

        if (offset < CommonConfigLength)
        {
            return ReadCommon((int)offset, data);
        }

        if (offset == IsrOffset && data.Length == 1)
        {
            data[0] = ReadAndClearIsr();
            return true;
        }

        if (offset >= DeviceConfigOffset && offset < NotifyOffset)
        {
            ulong o = offset - DeviceConfigOffset;
            if (data.Length == 8 || (o & (ulong)(data.Length - 1)) != 0)
            {
                return false;
            }

            _device.ReadConfig((uint)o, data); // clamped by the device: beyond ConfigSize reads zero
            return true;
        }

        if (offset >= MsixTableOffset && offset < MsixTableOffset + (ulong)_msixTable.Length)
        {
            return ReadMsixTable((int)(offset - MsixTableOffset), data);
        }

        if (offset >= MsixPbaOffset && offset < MsixPbaOffset + (8 * (ulong)_msixPending.Length))
        {
            int o = (int)(offset - MsixPbaOffset);
            if ((o & (data.Length - 1)) != 0 || data.Length < 4)
            {
                return false;
            }

            Span<byte> pba = stackalloc byte[8];
            lock (_irqGate)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(pba, _msixPending[o / 8]);
            }

            pba.Slice(o % 8, data.Length).CopyTo(data);
            return true;
        }

        return false; // notify area is write-only; holes read as zero and are counted
    }

    private bool WriteBarLocked(ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.Length is not (1 or 2 or 4 or 8))
        {
            return false;
        }

        if (offset < CommonConfigLength)
        {
            return WriteCommon((int)offset, data);
        }

        if (offset >= DeviceConfigOffset && offset < NotifyOffset)
        {
            ulong o = offset - DeviceConfigOffset;
            if (data.Length == 8 || (o & (ulong)(data.Length - 1)) != 0)
            {
                return false;
            }

            _device.WriteConfig((uint)o, data);
            return true;
        }

        if (offset >= NotifyOffset && offset < NotifyOffset + (NotifyOffMultiplier * (ulong)Math.Max(1, _queues.Length)))
        {
            // VIRTIO 1.3 §4.1.4.4 "Notification structure layout": queue n is notified at
            // queue_notify_off(n) * notify_off_multiplier; the written value is the queue index.
            ulong o = offset - NotifyOffset;
            if (o % NotifyOffMultiplier != 0 || data.Length is not (2 or 4))
            {
                return false;
            }

            int queue = (int)(o / NotifyOffMultiplier);
            if (_status.IsDriverOk && queue < _queues.Length)
            {
                _device.NotifyQueue(queue);
            }

            return true;
        }

        if (offset >= MsixTableOffset && offset < MsixTableOffset + (ulong)_msixTable.Length)
        {
            return WriteMsixTable((int)(offset - MsixTableOffset), data);
        }

        return false; // ISR and PBA are read-only
    }

    private bool ReadMsixTable(int offset, Span<byte> data)
    {
        // PCI Local Bus 3.0 §6.8.2: table entries are accessed as aligned DWORDs or QWORDs.
        if (data.Length is not (4 or 8) || (offset & (data.Length - 1)) != 0)
        {
            return false;
        }

        lock (_irqGate)
        {
            _msixTable.AsSpan(offset, data.Length).CopyTo(data);
        }

        return true;
    }

    private bool WriteMsixTable(int offset, ReadOnlySpan<byte> data)
    {
        if (data.Length is not (4 or 8) || (offset & (data.Length - 1)) != 0)
        {
            return false;
        }

        lock (_irqGate)
        {
            data.CopyTo(_msixTable.AsSpan(offset, data.Length));
            int control = (offset & ~15) + 12;
            _msixTable[control] &= 1; // only the mask bit of vector control is writable
            _msixTable[control + 1] = 0;
            _msixTable[control + 2] = 0;
            _msixTable[control + 3] = 0;
            DeliverUnmaskedPendingLocked();
        }

        return true;
    }

    private bool ReadCommon(int offset, Span<byte> data)
    {
        if (!TryResolveCommonField(offset, data.Length, out int field, out int fieldSize))
        {
            return false;
        }

        QueueRegisters? q = _queueSelect < _queues.Length ? _queues[_queueSelect] : null;
        ulong value = field switch
        {
            0x00 => _deviceFeatureSelect,
            0x04 => _deviceFeatureSelect switch
            {
                0 => (uint)_device.DeviceFeatures,
                1 => (uint)(_device.DeviceFeatures >> 32),
                _ => 0u,
            },
            0x08 => _driverFeatureSelect,
            0x0C => _driverFeatureSelect switch
            {
                0 => (uint)_driverFeatures,
                1 => (uint)(_driverFeatures >> 32),
                _ => 0u,
            },
            0x10 => _configVector,
            0x12 => (ulong)_queues.Length,
            0x14 => ReadStatus(),
            0x15 => (byte)_device.ConfigGeneration,
            0x16 => _queueSelect,
            // VIRTIO 1.3 §4.1.4.3.1 "Device Requirements: Common configuration structure layout":
            // per-queue fields of a queue that does not exist read as zero.
            0x18 => q?.Size ?? 0,
            0x1A => q?.Vector ?? NoVector,
            0x1C => q is { Enabled: true } ? 1u : 0u,
            0x1E => q is null ? 0u : _queueSelect,
            0x20 => q?.Desc ?? 0,
            0x28 => q?.Driver ?? 0,
            0x30 => q?.Device ?? 0,
            0x38 => q is null ? 0u : _queueSelect, // queue_notif_config_data
            _ => 0, // queue_reset, admin_queue_index, admin_queue_num
        };

        Span<byte> full = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(full, value);
        full.Slice(offset - field, data.Length).CopyTo(data);
        _ = fieldSize;
        return true;
    }

    private bool WriteCommon(int offset, ReadOnlySpan<byte> data)
    {
        if (!TryResolveCommonField(offset, data.Length, out int field, out _))
        {
            return false;
        }

        ulong value = data.Length switch
        {
            1 => data[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(data),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(data),
            _ => BinaryPrimitives.ReadUInt64LittleEndian(data),
        };
        int shift = 8 * (offset - field);
        QueueRegisters? q = _queueSelect < _queues.Length ? _queues[_queueSelect] : null;
        switch (field)
        {
            case 0x00:
                _deviceFeatureSelect = (uint)value;
                return true;
            case 0x08:
                _driverFeatureSelect = (uint)value;
                return true;
            case 0x0C:
                return WriteDriverFeatures((uint)value);
            case 0x10:
                _configVector = ValidVector((ushort)value);
                return true;
            case 0x14:
                WriteStatus((byte)value);
                return true;
            case 0x16:
                _queueSelect = (ushort)value; // validated before every per-queue access
                return true;
            case 0x18:
                if (!CanConfigureQueue(q))
                {
                    return false;
                }

                q!.Size = (ushort)value;
                return true;
            case 0x1A:
                // VIRTIO 1.3 §4.1.5.1.2.1: an unmappable vector reads back as NO_VECTOR.
                if (q is null)
                {
                    return false;
                }

                q.Vector = ValidVector((ushort)value);
                return true;
            case 0x1C:
                return WriteQueueEnable(q, (ushort)value);
            case 0x20:
                if (!CanConfigureQueue(q))
                {
                    return false;
                }

                q!.Desc = Merge(q.Desc, value, shift, data.Length);
                return true;
            case 0x28:
                if (!CanConfigureQueue(q))
                {
                    return false;
                }

                q!.Driver = Merge(q.Driver, value, shift, data.Length);
                return true;
            case 0x30:
                if (!CanConfigureQueue(q))
                {
                    return false;
                }

                q!.Device = Merge(q.Device, value, shift, data.Length);
                return true;
            case 0x3A:
                return WriteQueueReset(q, (ushort)value);
            default:
                return false; // read-only field
        }
    }

    private static ulong Merge(ulong current, ulong value, int shift, int width)
    {
        ulong mask = width == 8 ? ulong.MaxValue : ((1UL << (8 * width)) - 1) << shift;
        return (current & ~mask) | ((value << shift) & mask);
    }

    private static bool TryResolveCommonField(int offset, int width, out int field, out int size)
    {
        // Field map of struct virtio_pci_common_cfg (VIRTIO 1.3 §4.1.4.3 "Common configuration
        // structure layout"). Accesses must match the field width; 64-bit fields may also be
        // accessed as two aligned 32-bit halves.
        (field, size) = offset switch
        {
            >= 0x00 and < 0x10 => (offset & ~3, 4),
            0x10 or 0x11 => (0x10, 2),
            0x12 or 0x13 => (0x12, 2),
            0x14 => (0x14, 1),
            0x15 => (0x15, 1),
            >= 0x16 and < 0x20 => (offset & ~1, 2),
            >= 0x20 and < 0x38 => (0x20 + ((offset - 0x20) & ~7), 8),
            >= 0x38 and < 0x40 => (offset & ~1, 2),
            _ => (-1, 0),
        };
        if (field < 0)
        {
            return false;
        }

        return width == size ? offset == field : size == 8 && width == 4 && (offset - field) % 4 == 0;
    }

    private ushort ValidVector(ushort vector) => vector < _vectorCount ? vector : NoVector;

    private bool InQueueSetupWindow => _status.InQueueSetupWindow;

    // Queue configuration is accepted only between FEATURES_OK and DRIVER_OK and while the queue
    // is disabled (Firecracker CVE-2026-5747: writes after activation).
    private bool CanConfigureQueue(QueueRegisters? q) => q is { Enabled: false } && InQueueSetupWindow;

    private bool WriteQueueEnable(QueueRegisters? q, ushort value)
    {
        // VIRTIO 1.3 §4.1.4.3.2 "Driver Requirements: Common configuration structure layout": the
        // driver MUST NOT write 0 to queue_enable.
        if (q is null || value != 1 || q.Enabled || !InQueueSetupWindow)
        {
            return false;
        }

        SplitQueue queue = _device.GetQueue(_queueSelect);
        if (!queue.TrySetSize(q.Size) || !queue.TrySetAddresses(new GuestAddress(q.Desc), new GuestAddress(q.Driver), new GuestAddress(q.Device)))
        {
            LogQueueSetupRefused(_queueSelect, q.Size, q.Desc, q.Driver, q.Device);
            return true; // the write was legal; queue_enable reads back 0
        }

        q.Enabled = true;
        return true;
    }

    private bool WriteQueueReset(QueueRegisters? q, ushort value)
    {
        // VIRTIO 1.3 §4.1.4.3.2: queue_reset exists only with VIRTIO_F_RING_RESET.
        if (q is null || value != 1 || (_device.DriverFeatures & VirtioFeatures.RingReset) == 0)
        {
            return false;
        }

        _device.SetQueueReady(_queueSelect, false);
        _device.ResetQueue(_queueSelect);
        _device.GetQueue(_queueSelect).Reset();
        q.Clear();
        return true;
    }

    private bool WriteDriverFeatures(uint value)
    {
        if (_status.FeaturesFrozen)
        {
            return false;
        }

        switch (_driverFeatureSelect)
        {
            case 0:
                _driverFeatures = (_driverFeatures & 0xFFFF_FFFF_0000_0000) | value;
                return true;
            case 1:
                _driverFeatures = (_driverFeatures & 0xFFFF_FFFF) | ((ulong)value << 32);
                return true;
            default:
                return false;
        }
    }

    private uint ReadStatus() => _status.Read();

    private void WriteStatus(byte requested)
    {
        if (requested == 0)
        {
            ResetDevice();
            return;
        }

        byte before = _status.Value;
        switch (_status.Write(requested, _driverFeatures, legacy: false))
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
                _status.Activate(_memory, this, i => _queues[i].Enabled, LogQueueActivationFailed);
                break;
        }
    }

    private void ResetDevice()
    {
        _device.Reset();
        foreach (QueueRegisters q in _queues)
        {
            q.Clear();
        }

        _status.Clear();
        _driverFeatures = 0;
        _deviceFeatureSelect = 0;
        _driverFeatureSelect = 0;
        _queueSelect = 0;
        _configVector = NoVector;
        lock (_irqGate)
        {
            _isr = 0;

            // PCI Local Bus 3.0 §6.8.2.9: a pending bit whose event is gone must be cleared, or unmasking the
            // vector later sends a stale message. A device reset (VIRTIO 1.3 §2.4 "Device Reset") discards every
            // used-buffer and configuration event.
            Array.Clear(_msixPending);
            UpdateIntxLocked();
        }
    }

    private byte ReadAndClearIsr()
    {
        lock (_irqGate)
        {
            // VIRTIO 1.3 §4.1.4.5.1 "Device Requirements: ISR status capability": reading ISR
            // resets it to 0 and de-asserts the interrupt.
            byte isr = _isr;
            _isr = 0;
            UpdateIntxLocked();
            return isr;
        }
    }

    private void UpdateIntx()
    {
        lock (_irqGate)
        {
            UpdateIntxLocked();
        }
    }

    private void UpdateIntxLocked()
    {
        bool disabled = (BinaryPrimitives.ReadUInt16LittleEndian(_config.AsSpan(0x04)) & CommandIntxDisable) != 0;
        bool assert = _isr != 0 && !disabled && !MsixEnabled;
        if (assert != _intxAsserted)
        {
            _intxAsserted = assert;
            _interrupts.SetIntx(assert);
        }
    }

    private void SignalVectorLocked(ushort vector)
    {
        if (vector == NoVector || vector >= _vectorCount)
        {
            return; // NO_VECTOR: the event is not signalled (VIRTIO 1.3 §4.1.5.1.2)
        }

        int entry = 16 * vector;
        if (MsixFunctionMasked || (_msixTable[entry + 12] & 1) != 0)
        {
            _msixPending[vector / 64] |= 1UL << (vector % 64);
            return;
        }

        _interrupts.SendMsi(BinaryPrimitives.ReadUInt64LittleEndian(_msixTable.AsSpan(entry)), BinaryPrimitives.ReadUInt32LittleEndian(_msixTable.AsSpan(entry + 8)));
    }

    private void DeliverUnmaskedPending()
    {
        lock (_irqGate)
        {
            UpdateIntxLocked();
            DeliverUnmaskedPendingLocked();
        }
    }

    private void DeliverUnmaskedPendingLocked()
    {
        if (!MsixEnabled || MsixFunctionMasked)
        {
            return;
        }

        for (int v = 0; v < _vectorCount; v++)
        {
            ulong bit = 1UL << (v % 64);
            if ((_msixPending[v / 64] & bit) != 0 && (_msixTable[(16 * v) + 12] & 1) == 0)
            {
                _msixPending[v / 64] &= ~bit;
                SignalVectorLocked((ushort)v);
            }
        }
    }

    private void Ignore(string kind, ulong offset, int width)
    {
        long n = Interlocked.Increment(ref _ignored);
        if (n <= 16 || (n & (n - 1)) == 0)
        {
            LogIgnoredAccess(kind, offset, width, n);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "virtio-pci: ignored {Kind} of {Width} byte(s) at offset 0x{Offset:x} ({Count} ignored so far)")]
    private partial void LogIgnoredAccess(string kind, ulong offset, int width, long count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "virtio-pci: queue {Queue} setup refused (size {Size}, desc 0x{Desc:x}, driver 0x{Driver:x}, device 0x{Device:x})")]
    private partial void LogQueueSetupRefused(int queue, ushort size, ulong desc, ulong driver, ulong device);

    [LoggerMessage(Level = LogLevel.Debug, Message = "virtio-pci: queue {Queue} could not be activated: {Error}")]
    private partial void LogQueueActivationFailed(int queue, VirtqueueError error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "virtio-pci: FEATURES_OK refused, driver features 0x{Driver:x} not within offered 0x{Offered:x}")]
    private partial void LogFeaturesRefused(ulong driver, ulong offered);

    [LoggerMessage(Level = LogLevel.Debug, Message = "virtio-pci: DRIVER_OK without FEATURES_OK ignored")]
    private partial void LogDriverOkWithoutFeatures();

    [LoggerMessage(Level = LogLevel.Debug, Message = "virtio-pci: status write 0x{Requested:x2} clears bits of 0x{Current:x2}; ignored")]
    private partial void LogStatusBitsCleared(byte current, byte requested);

    private sealed class QueueRegisters
    {
        private readonly ushort _maxSize;

        public QueueRegisters(ushort maxSize)
        {
            _maxSize = maxSize;
            Clear();
        }

        public ushort Size;
        public ushort Vector;
        public bool Enabled;
        public ulong Desc;
        public ulong Driver;
        public ulong Device;

        public void Clear()
        {
            // VIRTIO 1.3 §4.1.4.3.1: on reset queue_size is the maximum and vectors are NO_VECTOR.
            Size = _maxSize;
            Vector = NoVector;
            Enabled = false;
            Desc = 0;
            Driver = 0;
            Device = 0;
        }
    }
}
