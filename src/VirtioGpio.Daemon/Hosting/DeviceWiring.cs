// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging;
using VirtioGpio.Daemon.Cli;
using VirtioGpio.Daemon.Control;
using VirtioGpio.Device;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Gpio.Draft;
using VirtioGpio.Transport.VhostUser;

namespace VirtioGpio.Daemon.Hosting;

/// <summary>
/// Creates the device model and the vhost-user server of one <c>--socket</c>: the only place that knows the concrete
/// device and transport types.
/// </summary>
internal static class DeviceWiring
{
    /// <summary>Creates the device for <paramref name="options"/>' dialect over <paramref name="lines"/> and routes its interrupt and request notifications to control subscribers.</summary>
    /// <param name="options">Validated options.</param>
    /// <param name="lines">The simulated lines (live for the whole process).</param>
    /// <param name="events">Receives interrupt-delivery and request notifications for control subscribers.</param>
    /// <param name="loggerFactory">Logging.</param>
    /// <returns>The device.</returns>
    /// <exception cref="DaemonUsageException">The device rejects the options (e.g. a draft config over 256 bytes).</exception>
    public static IVirtioDevice CreateDevice(DaemonOptions options, SimulatedGpioLineBackend lines, ControlledDevice events, ILoggerFactory loggerFactory)
    {
        try
        {
            return options.Dialect == DaemonDialect.Draft
                ? CreateDraft(options, lines, loggerFactory)
                : CreateStandard(options, lines, events, loggerFactory);
        }
        catch (ArgumentException ex)
        {
            throw new DaemonUsageException(DaemonOptions.OneLine(ex.Message), ex);
        }
    }

    /// <summary>Creates the vhost-user server for one device (not started).</summary>
    /// <param name="socketPath">Full socket path (already checked by <see cref="UnixSocketPath.PrepareForBind"/>).</param>
    /// <param name="device">The device; it outlives connections, so line state survives reconnects (VHOST-USER.md §9).</param>
    /// <param name="options">Validated options.</param>
    /// <param name="loggerFactory">Logging.</param>
    /// <returns>The server.</returns>
    public static VhostUserBackendServer CreateServer(string socketPath, IVirtioDevice device, DaemonOptions options, ILoggerFactory loggerFactory)
        => new(socketPath, device, new VhostUserBackendOptions { MaxQueueSize = options.QueueSize }, loggerFactory);

    private static VirtioGpioDevice CreateStandard(DaemonOptions options, SimulatedGpioLineBackend lines, ControlledDevice events, ILoggerFactory loggerFactory)
    {
        var device = new VirtioGpioDevice(new VirtioGpioDeviceOptions
        {
            Backend = lines,
            OfferInterrupts = !options.NoIrq,

            // VHOST-USER.md §12.3: QEMU's MMIO rings are 1024 entries; the front-end picks the size up to this bound.
            RequestQueueMaxSize = options.QueueSize,
            EventQueueMaxSize = options.QueueSize,
            LoggerFactory = loggerFactory,
        });
        device.InterruptDelivered += (_, e) => events.PublishIrq(e.LineNumber, e.Status == GpioIrqStatus.Valid);
        device.RequestProcessed += (_, e) => events.PublishRequest(RequestTypeName(e.Type), e.Line, e.Value, e.Status == GpioStatus.Ok);
        return device;
    }

    private static DraftVirtioGpioDevice CreateDraft(DaemonOptions options, SimulatedGpioLineBackend lines, ILoggerFactory loggerFactory)
    {
        // DRAFT.md §0 rule 7: q1's size is a lifetime request budget — the bound is the largest ring the front-end may choose.
        return new DraftVirtioGpioDevice(
            new DraftVirtioGpioDeviceOptions
            {
                DeviceId = options.DeviceId,
                LineCount = options.LineCount,
                LineNames = options.LineNames.HasAnyName ? [.. options.LineNames] : null,
                RequestQueueMaxSize = options.QueueSize,
                ReplyQueueMaxSize = options.QueueSize,
                MaxConfigSize = DaemonOptions.VhostUserMaxConfigSize, // DRAFT.md §2.3
            },
            lines,
            loggerFactory.CreateLogger("VirtioGpio.Device.Gpio.Draft.DraftVirtioGpioDevice"));
    }

    private static string RequestTypeName(GpioMessageType type) => type switch
    {
        GpioMessageType.GetLineNames => "get-line-names",
        GpioMessageType.GetDirection => "get-direction",
        GpioMessageType.SetDirection => "set-direction",
        GpioMessageType.GetValue => "get-value",
        GpioMessageType.SetValue => "set-value",
        GpioMessageType.SetIrqType => "set-irq-type",
        _ => "unknown",
    };
}
