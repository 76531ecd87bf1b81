// SPDX-License-Identifier: MIT
using System.Diagnostics.Metrics;

namespace VirtioGpio.Device.Gpio.Draft;

/// <summary>
/// Instruments of the draft device on the meter "VirtioGpio" (COMMON.md), tagged <c>virtio.gpio.dialect = draft</c>.
/// Tags are preallocated, so recording allocates nothing.
/// </summary>
internal static class DraftGpioMetrics
{
    private static readonly Meter Meter = new("VirtioGpio");

    private static readonly Counter<long> Requests = Meter.CreateCounter<long>(
        "virtio_gpio.requests", "{request}", "requestq messages processed");

    private static readonly Counter<long> RequestErrors = Meter.CreateCounter<long>(
        "virtio_gpio.request_errors", "{request}", "requests answered with an error");

    private static readonly Counter<long> Notifications = Meter.CreateCounter<long>(
        "virtio_gpio.notifications", "{notification}", "used-buffer notifications sent to the driver");

    private static readonly Counter<long> HostLevelMessages = Meter.CreateCounter<long>(
        "virtio_gpio.host_level_messages", "{message}", "draft HOST_LEVEL messages sent");

    private static readonly KeyValuePair<string, object?> Dialect = new("virtio.gpio.dialect", "draft");

    private static readonly KeyValuePair<string, object?>[] TypeTags =
    {
        new("virtio.gpio.type", "unknown"),
        new("virtio.gpio.type", "request"),
        new("virtio.gpio.type", "direction-input"),
        new("virtio.gpio.type", "direction-output"),
        new("virtio.gpio.type", "get-direction"),
        new("virtio.gpio.type", "get-value"),
        new("virtio.gpio.type", "set-value"),
    };

    public static void Request(ushort type, bool error)
    {
        KeyValuePair<string, object?> typeTag = TypeTags[type < TypeTags.Length ? type : 0];
        Requests.Add(1, Dialect, typeTag);
        if (error)
        {
            RequestErrors.Add(1, Dialect, typeTag);
        }
    }

    public static void Notification() => Notifications.Add(1, Dialect);

    public static void HostLevel() => HostLevelMessages.Add(1, Dialect);
}
