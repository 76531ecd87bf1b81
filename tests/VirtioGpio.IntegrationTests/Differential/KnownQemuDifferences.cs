// SPDX-License-Identifier: MIT
using VirtioGpio.IntegrationTests.Infrastructure;

namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>
/// Every value QEMU 10's transport (in front of our daemon) reads differently from our in-process transport, with the
/// reason; docs/qemu-differences.md explains each group. Where QEMU deviates from the spec we keep following the spec.
/// Any difference not listed here fails <c>QemuDifferentialTests</c>; so does an entry whose values change or stop
/// differing. <c>DifferentialScriptTests</c> checks, without QEMU, that every entry names a labelled operation and that
/// its <see cref="QemuDifference.Ours"/> value is what our transport reads.
/// </summary>
public static class KnownQemuDifferences
{
    // ---- reasons shared by several entries ---------------------------------------------------------------------

    private const string StartNotification =
        "Not QEMU: our vhost-user back-end signals each ring once when it starts (SplitQueue.TrySyncUsedIndexFromRing "
        + "drops the notification baseline: after a reconnect it cannot know whether the previous back-end's last used "
        + "entries were signalled). A spurious used-buffer notification, which drivers tolerate; in-process there is no "
        + "ring start, so no notification.";

    private const string MmioWrongWidth =
        "Driver violation: VIRTIO 1.3 §4.2.2.2 \"Driver Requirements: MMIO Device Register Layout\" allows only 32-bit "
        + "aligned control-register accesses. QEMU's memory core splits a 64-bit access into two 32-bit register reads; "
        + "we ignore accesses the spec forbids (zero, counted in IgnoredAccessCount).";

    private const string ConfigMisaligned =
        "Driver violation: §4.2.2.2 / §4.1.3.1 require naturally aligned 16- and 32-bit device-configuration accesses "
        + "and 64-bit fields as two 32-bit halves. QEMU's virtio_config_read* accept any offset and width; we ignore "
        + "such accesses (zero).";

    private const string ConfigPastEnd =
        "Past the 8-byte struct virtio_gpio_config the spec defines no value. QEMU returns all ones; our device clamps "
        + "and zero-fills (STYLE.md C rule 4).";

    private const string MmioFeatureSelect =
        "QEMU deviates: its virtio-mmio treats any non-zero DeviceFeaturesSel as 1. VIRTIO 1.3 §4.2.2 \"MMIO Device "
        + "Register Layout\": DeviceFeatures returns bits DeviceFeaturesSel*32..+31, and bits 64 and up do not exist "
        + "(zero). We follow the spec.";

    private const string MmioShmBase =
        "QEMU deviates: VIRTIO 1.3 §4.2.2 \"MMIO Device Register Layout\": reading SHMBase (like SHMLen) of a "
        + "non-existent region results in -1. QEMU returns -1 for the length but 0 for the base; we follow the spec.";

    private const string QueueBeforeFeaturesOk =
        "Queue configuration before FEATURES_OK (VIRTIO 1.3 §3.1.1 \"Driver Requirements: Device Initialization\" "
        + "step 7 sets queues up after FEATURES_OK). QEMU stores it; we refuse it (docs/embedding.md §4), so the "
        + "driver reads the reset value back.";

    private const string QueueAfterDriverOk =
        "Queue configuration after DRIVER_OK (§3.1.1; §4.2.3.2 \"Virtqueue Configuration\"; §4.1.4.3.2). QEMU stores "
        + "it (without telling the vhost-user back-end); we refuse it, as Firecracker CVE-2026-5747 taught "
        + "(docs/embedding.md §4).";

    private const string UnofferedFeature =
        "QEMU deviates: a feature the device did not offer (VIRTIO_F_ACCESS_PLATFORM) is not a valid subset, so the "
        + "device MUST fail to set FEATURES_OK (VIRTIO 1.3 §2.2.2 \"Device Requirements: Feature Bits\"). QEMU drops "
        + "the bit silently and sets FEATURES_OK; we leave it clear.";

    private const string DriverOkWithoutFeaturesOk =
        "DRIVER_OK without FEATURES_OK (§3.1.1 orders them). QEMU takes the status as written and starts the back-end "
        + "with no features negotiated; we leave DRIVER_OK clear.";

    private const string ClearedStatusBits =
        "Driver violation: VIRTIO 1.3 §2.1.2 \"Driver Requirements: Device Status Field\": the driver MUST NOT clear a "
        + "status bit (only writing 0 resets). QEMU stores the value (stopping the back-end when DRIVER_OK goes); we "
        + "ignore the write.";

    private const string InvalidQueue =
        "Invalid queue parameters (size 3: not a power of two, VIRTIO 1.3 §2.7 \"Split Virtqueues\"; size above the "
        + "maximum; size 0; rings outside RAM or a misaligned used ring, §2.7 alignment table). QEMU marks the queue "
        + "ready and hands the parameters to the vhost-user back-end at DRIVER_OK (which refuses them and stays alive); "
        + "our transport refuses them when the queue is enabled, and the driver reads QueueReady/queue_enable 0 back.";

    private const string PciLayout =
        "Layout is the device's choice (VIRTIO 1.3 §4.1.4 \"Virtio Structure PCI Capabilities\": any BAR, any offset, "
        + "a length covering the structure, any capability order). QEMU uses BAR 4 with 4 KiB per structure and MSI-X in "
        + "BAR 1; we put everything in BAR 0 with tight lengths (docs/embedding.md §3b). The set of capability types "
        + "(caps.types) is equal.";

    private const string PciBars =
        "Layout choice: QEMU's BAR 4 is 16 KiB, 64-bit prefetchable, plus a separate 4 KiB 32-bit BAR 1 for MSI-X; our "
        + "one BAR 0 is 32 KiB, 64-bit, non-prefetchable (ISR status is read-to-clear, a read side effect that a "
        + "prefetchable BAR must not have: PCI Local Bus 3.0 §6.2.5.1).";

    private const string PciWrongWidth =
        "Driver violation: VIRTIO 1.3 §4.1.3.1 \"Driver Requirements: PCI Device Layout\": each field with its natural "
        + "width (64-bit fields also as two 32-bit halves). QEMU's common-configuration handler decodes by offset only, "
        + "so e.g. an 8-bit read of num_queues returns its low byte and a 16-bit status write sets the status; we ignore "
        + "wrong-width accesses (reads zero, writes dropped, IgnoredAccessCount).";

    private const string PciKeptAcrossReset =
        "QEMU keeps device_feature_select, driver_feature_select and the driver_feature words across a device reset; "
        + "we return them to 0 (VIRTIO 1.3 §2.4 \"Device Reset\": the device returns to its initial state; the spec "
        + "names no other reset value for them).";

    private const string PciMissingQueue =
        "A queue that does not exist: VIRTIO 1.3 §4.1.4.3 only says queue_size 0 means unavailable. QEMU accepts any "
        + "queue_select below 1024 (and ignores larger ones, keeping the old value) and reads queue_notify_off as the "
        + "selected index; we store what the driver wrote and read every per-queue field of a missing queue as 0.";

    private const string PciCfgWindowMisuse =
        "Driver violation: VIRTIO 1.3 §4.1.4.9.2 \"Driver Requirements: PCI configuration access capability\": "
        + "cap.offset a multiple of cap.length, length 1, 2 or 4. QEMU does not check the alignment, and on an invalid "
        + "length it skips the access but leaves the previous window value in pci_cfg_data; we perform no BAR access "
        + "and read 0.";

    private const string PciQueueSizeIgnored =
        "queue_size above the maximum or 0 (§4.1.4.3: the driver may only reduce it; 0 means unavailable): QEMU ignores "
        + "the write and keeps the previous size; we store it and refuse queue_enable, which then reads 0.";

    private const string IsrWithMsix =
        "VIRTIO 1.3 §4.1.4.5.1 \"Device Requirements: ISR status capability\" requires the Queue Interrupt bit only "
        + "while MSI-X is disabled; QEMU's virtio core sets it for every used-buffer notification, we do not with MSI-X "
        + "(drivers do not read ISR then, §4.1.4.5.2).";

    /// <summary>virtio-mmio (QEMU 10 hw/virtio/virtio-mmio.c, vhost-user-gpio-device) against VirtioMmioTransport.</summary>
    public static readonly IReadOnlyList<QemuDifference> Mmio =
    [
        new("mmio-10-linux:irq-at-start", "0x1", "0x0", StartNotification),
        new("mmio-20-widths:magic-r64", "0x274726976", "0x0", MmioWrongWidth),
        new("mmio-20-widths:cfg-r16-3", "0x2b00", "0x0", ConfigMisaligned),
        new("mmio-20-widths:cfg-r32-2", "0x2b0000", "0x0", ConfigMisaligned),
        new("mmio-20-widths:cfg-r64-0", "0x2b00000008", "0x0", ConfigMisaligned),
        new("mmio-20-widths:cfg-r8-8", "0xff", "0x0", ConfigPastEnd),
        new("mmio-20-widths:cfg-r32-8", "0xffffffff", "0x0", ConfigPastEnd),
        new("mmio-20-widths:cfg-r32-fc", "0xffffffff", "0x0", ConfigPastEnd),
        new("mmio-30-registers:dfsel2", "0x1", "0x0", MmioFeatureSelect),
        new("mmio-30-registers:dfsel-max", "0x1", "0x0", MmioFeatureSelect),
        new("mmio-30-registers:shm-base-lo", "0x0", "0xffffffff", MmioShmBase),
        new("mmio-30-registers:shm-base-hi", "0x0", "0xffffffff", MmioShmBase),
        new("mmio-40-lifecycle:early-ready", "0x1", "0x0", QueueBeforeFeaturesOk),
        new("mmio-40-lifecycle:unoffered-ok", "0xb", "0x3", UnofferedFeature),
        new("mmio-40-lifecycle:no-feat-ok", "0x7", "0x3", DriverOkWithoutFeaturesOk),
        new("mmio-40-lifecycle:irq-at-start", "0x1", "0x0", StartNotification),
        new("mmio-40-lifecycle:late-ready1", "0x1", "0x0", QueueAfterDriverOk),
        new("mmio-40-lifecycle:cleared-fo", "0x7", "0xf", ClearedStatusBits),
        new("mmio-40-lifecycle:cleared-most", "0x1", "0xf", ClearedStatusBits),
        new("mmio-50-bad-queues:size3-ready", "0x1", "0x0", InvalidQueue),
        new("mmio-50-bad-queues:big-ready", "0x1", "0x0", InvalidQueue),
        new("mmio-50-bad-queues:zero-ready", "0x1", "0x0", InvalidQueue),
        new("mmio-50-bad-queues:hole-ready", "0x1", "0x0", InvalidQueue),
        new("mmio-60-notify:irq-at-start", "0x1", "0x0", StartNotification),
        new("mmio-90-requests:irq-at-start", "0x1", "0x0", StartNotification),
    ];

    /// <summary>virtio-pci modern (QEMU 10 hw/virtio/virtio-pci.c, vhost-user-gpio-pci) against VirtioPciTransport.</summary>
    public static readonly IReadOnlyList<QemuDifference> Pci =
    [
        new("pci-10-identity:cap-ptr", "0x98", "0x40", PciLayout),
        new("pci-10-identity:ro-cap-ptr", "0x98", "0x40", PciLayout),
        new("pci-10-identity:caps.order", "msix virtio5 virtio2 virtio4 virtio3 virtio1", "msix virtio1 virtio2 virtio3 virtio4 virtio5", PciLayout),
        new("pci-10-identity:caps.msix.table_bir", "0x1", "0x0", PciLayout),
        new("pci-10-identity:caps.msix.table_offset", "0x0", "0x4000", PciLayout),
        new("pci-10-identity:caps.msix.pba_bir", "0x1", "0x0", PciLayout),
        new("pci-10-identity:caps.msix.pba_offset", "0x800", "0x6000", PciLayout),
        new("pci-10-identity:caps.virtio1.bar", "0x4", "0x0", PciLayout),
        new("pci-10-identity:caps.virtio1.length", "0x1000", "0x40", PciLayout),
        new("pci-10-identity:caps.virtio2.bar", "0x4", "0x0", PciLayout),
        new("pci-10-identity:caps.virtio2.length", "0x1000", "0x8", PciLayout),
        new("pci-10-identity:caps.virtio3.bar", "0x4", "0x0", PciLayout),
        new("pci-10-identity:caps.virtio3.length", "0x1000", "0x1", PciLayout),
        new("pci-10-identity:caps.virtio4.bar", "0x4", "0x0", PciLayout),
        new("pci-10-identity:caps.virtio4.length", "0x1000", "0x8", PciLayout),
        new("pci-10-identity:bar-common.low", "0xffffc00c", "0xffff8004", PciBars),
        new("pci-10-identity:bar-msix.low", "0xfffff000", "0xffff8004", PciBars),
        new("pci-10-identity:bar-msix.high", "(missing)", "0xffffffff", PciBars + " QEMU's MSI-X BAR is 32-bit: it has no upper half to size."),
        new("pci-10-identity:command-all", "0x507", "0x406",
            "PCI Local Bus 3.0 §6.2.2: command bits for functions a device lacks may be hardwired to 0. We have no I/O BAR "
            + "and no SERR# reporting, so I/O Space and SERR# Enable stay 0; QEMU's generic PCI core makes them writable."),
        new("pci-20-linux:isr-at-start", "0x1", "0x0", StartNotification),
        new("pci-30-common:dfsel", "0x1", "0x0", PciKeptAcrossReset),
        new("pci-30-common:drvsel", "0x1", "0x0", PciKeptAcrossReset),
        new("pci-30-common:nq-r8", "0x2", "0x0", PciWrongWidth),
        new("pci-30-common:nq-r32", "0x30002", "0x0", PciWrongWidth),
        new("pci-30-common:status-r16", "0x3", "0x0", PciWrongWidth),
        new("pci-30-common:status-r32", "0x3", "0x0", PciWrongWidth),
        new("pci-30-common:dfeat-r8", "0x1", "0x0", PciWrongWidth),
        new("pci-30-common:dfeat-r16", "0x1", "0x0", PciWrongWidth),
        new("pci-30-common:dfeat-r64", "0x100000001", "0x0", PciWrongWidth),
        new("pci-30-common:status-w16", "0x1", "0x0", PciWrongWidth),
        new("pci-30-common:status-w32", "0x1", "0x0", PciWrongWidth),
        new("pci-30-common:qsel-w8", "0x1", "0x0", PciWrongWidth),
        new("pci-30-common:drvsel0", "0x30000001", "0x0", PciKeptAcrossReset),
        new("pci-30-common:q2-notify-off", "0x2", "0x0", PciMissingQueue),
        new("pci-30-common:qmax-sel", "0x2", "0xffff", PciMissingQueue),
        new("pci-30-common:qmax-notify", "0x2", "0x0", PciMissingQueue),
        new("pci-30-common:cfg-r16-3", "0x2b00", "0x0", ConfigMisaligned),
        new("pci-30-common:cfg-r32-2", "0x2b0000", "0x0", ConfigMisaligned),
        new("pci-30-common:cfg-r64-0", "0x2b00000008", "0x0", ConfigMisaligned),
        new("pci-30-common:cfg-r8-8", "0xff", "0x0", ConfigPastEnd),
        new("pci-30-common:cfg-r32-8", "0xffffffff", "0x0", ConfigPastEnd),
        new("pci-30-common:cfg-r32-fc", "0xffffffff", "0x0", ConfigPastEnd),
        new("pci-30-common:pcicfg-misal", "0x2", "0x0", PciCfgWindowMisuse),
        new("pci-30-common:pcicfg-len3", "0x2", "0x0", PciCfgWindowMisuse),
        new("pci-40-lifecycle:early-size", "0x10", "0x40", QueueBeforeFeaturesOk),
        new("pci-40-lifecycle:early-desc", "0x8000000", "0x0", QueueBeforeFeaturesOk),
        new("pci-40-lifecycle:early-enable", "0x1", "0x0", QueueBeforeFeaturesOk),
        new("pci-40-lifecycle:unoffered-ok", "0xb", "0x3", UnofferedFeature),
        new("pci-40-lifecycle:reset-drvsel", "0x1", "0x0", PciKeptAcrossReset),
        new("pci-40-lifecycle:reset-drvfeat", "0x3", "0x0", PciKeptAcrossReset),
        new("pci-40-lifecycle:no-feat-ok", "0x7", "0x3", DriverOkWithoutFeaturesOk),
        new("pci-40-lifecycle:late-drvfeat", "0x0", "0x1",
            "Driver violation: features are fixed once FEATURES_OK is set (VIRTIO 1.3 §3.1.1). QEMU stores the late "
            + "driver_feature write (it takes effect only at the next FEATURES_OK); we keep the negotiated value."),
        new("pci-40-lifecycle:late-size1", "0x10", "0x40", QueueAfterDriverOk),
        new("pci-40-lifecycle:late-desc1", "0x8001000", "0x0", QueueAfterDriverOk),
        new("pci-40-lifecycle:late-enable1", "0x1", "0x0", QueueAfterDriverOk),
        new("pci-40-lifecycle:late-size0", "0x8", "0x10", QueueAfterDriverOk),
        new("pci-40-lifecycle:late-desc0", "0x8002000", "0x8000000", QueueAfterDriverOk),
        new("pci-40-lifecycle:cleared-fo", "0x7", "0xf", ClearedStatusBits),
        new("pci-40-lifecycle:cleared-most", "0x1", "0xf", ClearedStatusBits),
        new("pci-40-lifecycle:enable0-status", "0x4b", "0xb",
            "Driver violation: VIRTIO 1.3 §4.1.4.3.2: the driver MUST NOT write 0 to queue_enable. QEMU treats it as a "
            + "fatal device error (virtio_error: DEVICE_NEEDS_RESET, 0x40); we ignore the write. Both are reactions the "
            + "spec leaves open."),
        new("pci-50-msix:table-off", "0x1", "0x4000", PciLayout),
        new("pci-50-msix:pba-off", "0x801", "0x6000", PciLayout),
        new("pci-50-msix:e0-ctrl-all", "0xffffffff", "0x1",
            "PCI Local Bus 3.0 §6.8.2.9: Vector Control bits 31:1 are reserved and writing them has undefined results. "
            + "QEMU stores the whole dword; we keep only the Mask bit."),
        new("pci-50-msix:isr-at-start", "0x1", "0x0", StartNotification),
        new("pci-50-msix:msix-isr", "0x1", "0x0", IsrWithMsix),
        new("pci-60-bad-queues:size3-enable", "0x1", "0x0", InvalidQueue),
        new("pci-60-bad-queues:big-size", "0x40", "0x8000", PciQueueSizeIgnored),
        new("pci-60-bad-queues:big-enable", "0x1", "0x0", InvalidQueue),
        new("pci-60-bad-queues:zero-size", "0x40", "0x0", PciQueueSizeIgnored),
        new("pci-60-bad-queues:zero-enable", "0x1", "0x0", InvalidQueue),
        new("pci-60-bad-queues:hole-enable", "0x1", "0x0", InvalidQueue),
        new("pci-70-notify:isr-at-start", "0x1", "0x0", StartNotification),
        new("pci-70-notify:w8-kick", "0x1", "0x0",
            "Driver violation: VIRTIO 1.3 §4.1.5.2 \"Available Buffer Notifications\": without VIRTIO_F_NOTIFICATION_DATA "
            + "the driver writes the 16-bit queue index. QEMU's notify ioeventfd matches writes of any width, so the 8-bit "
            + "write kicks; we ignore it, and the request is served at the next valid kick (pci-70-notify:kicked)."),
        new("pci-90-requests:isr-at-start", "0x1", "0x0", StartNotification),
    ];

    /// <summary>The list for <paramref name="transport"/>.</summary>
    public static IReadOnlyList<QemuDifference> For(GuestTransport transport) => transport == GuestTransport.Pci ? Pci : Mmio;
}
