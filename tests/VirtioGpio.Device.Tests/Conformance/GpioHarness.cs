// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Time.Testing;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Testing;

namespace VirtioGpio.Device.Tests.Conformance;

/// <summary>
/// A standard device with simulated lines, brought up by the Linux-like test driver through the real queue
/// engine (feature negotiation, 1-byte config reads, DRIVER_OK, indirect single-descriptor messages when
/// INDIRECT_DESC is negotiated). Everything runs synchronously on the test thread.
/// </summary>
internal sealed class GpioHarness : IDisposable
{
    // Message types and IRQ codes as raw wire values (STANDARD.md §4.2, §4.3): the tests do not use the device's codec.
    public const ushort GetLineNames = 1;
    public const ushort GetDirection = 2;
    public const ushort SetDirection = 3;
    public const ushort GetValue = 4;
    public const ushort SetValue = 5;
    public const ushort SetIrqType = 6;
    public const uint DirNone = 0;
    public const uint DirOut = 1;
    public const uint DirIn = 2;
    public const uint IrqNone = 0;
    public const uint EdgeRising = 1;
    public const uint EdgeFalling = 2;
    public const uint EdgeBoth = 3;
    public const uint LevelHigh = 4;
    public const uint LevelLow = 8;

    private GpioHarness(VirtioGpioDevice device, VirtioGpioTestDriver driver, FakeTimeProvider time, RecordingGuestMemory? recording)
    {
        Device = device;
        Driver = driver;
        Time = time;
        Recording = recording;
        Lines = (SimulatedGpioLineBackend)device.Backend;
    }

    public VirtioGpioDevice Device { get; }

    public VirtioGpioTestDriver Driver { get; }

    public SimulatedGpioLineBackend Lines { get; }

    public FakeTimeProvider Time { get; }

    public RecordingGuestMemory? Recording { get; }

    public static GpioHarness Create(
        int lines = 8,
        Action<VirtioGpioDeviceOptions>? configure = null,
        Action<VirtioGpioTestDriverOptions>? configureDriver = null,
        bool record = false,
        bool initialize = true)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var options = new VirtioGpioDeviceOptions { LineCount = lines, TimeProvider = time };
        configure?.Invoke(options);
        if (options.LineNames is not null)
        {
            options.LineCount = 0;
        }

        var device = new VirtioGpioDevice(options);
        RecordingGuestMemory? recording = null;
        var driverOptions = new VirtioGpioTestDriverOptions { Timeout = TimeSpan.FromSeconds(10) };
        if (record)
        {
            driverOptions.DeviceMemoryWrapper = m =>
            {
                recording = new RecordingGuestMemory(m);
                return recording;
            };
        }

        configureDriver?.Invoke(driverOptions);
        var driver = new VirtioGpioTestDriver(device, driverOptions);
        if (initialize)
        {
            driver.Initialize();
        }

        return new GpioHarness(device, driver, time, recording);
    }

    /// <summary>The next returned eventq pair, if the device returned one (everything is synchronous: no waiting).</summary>
    public GpioIrqCompletion? TakeIrq() => Driver.TryTakeIrqCompletion(out GpioIrqCompletion c) ? c : null;

    /// <summary>All eventq pairs returned so far.</summary>
    public List<GpioIrqCompletion> TakeAllIrqs()
    {
        var list = new List<GpioIrqCompletion>();
        while (Driver.TryTakeIrqCompletion(out GpioIrqCompletion c))
        {
            list.Add(c);
        }

        return list;
    }

    /// <summary>Asserts an OK reply with used length exactly 2 (Linux compares it for equality).</summary>
    public static GpioCompletion Ok(GpioCompletion c)
    {
        Assert.Equal(2u, c.UsedLength);
        Assert.Equal(0, c.Status);
        return c;
    }

    /// <summary>Asserts an ERR reply: status 1, value 0, used length exactly 2 (D1, S1).</summary>
    public static GpioCompletion Err(GpioCompletion c)
    {
        Assert.Equal(2u, c.UsedLength);
        Assert.Equal(1, c.Status);
        Assert.Equal(0, c.Value);
        return c;
    }

    /// <summary>Asserts a returned pair with status VALID and used length exactly 1.</summary>
    public static GpioIrqCompletion Valid(GpioIrqCompletion? c, ushort line)
    {
        Assert.NotNull(c);
        Assert.Equal(line, c!.Line);
        Assert.Equal(1u, c.UsedLength);
        Assert.Equal(1, c.Status);
        return c;
    }

    /// <summary>Asserts a returned pair with status INVALID and used length exactly 1.</summary>
    public static GpioIrqCompletion Invalid(GpioIrqCompletion? c, ushort line)
    {
        Assert.NotNull(c);
        Assert.Equal(line, c!.Line);
        Assert.Equal(1u, c.UsedLength);
        Assert.Equal(0, c.Status);
        return c;
    }

    public void Dispose() => Device.Dispose();
}
