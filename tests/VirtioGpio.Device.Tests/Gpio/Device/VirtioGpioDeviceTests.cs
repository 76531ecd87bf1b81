// SPDX-License-Identifier: MIT
using System.Diagnostics.Metrics;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Tests.Conformance;
using VirtioGpio.Device.Virtqueues;
using static VirtioGpio.Device.Tests.Conformance.DeviceRequirementTests;
using static VirtioGpio.Device.Tests.Conformance.GpioHarness;

namespace VirtioGpio.Device.Tests.Gpio.Device;

/// <summary>Device surface: identity, features, lifecycle, host events, metrics, reset and inflight semantics.</summary>
public class VirtioGpioDeviceTests
{
    [Fact]
    public void IdentityAndOfferedFeatures()
    {
        using var device = new VirtioGpioDevice(new VirtioGpioDeviceOptions { LineCount = 4 });
        Assert.Equal(41u, device.DeviceId);
        Assert.Equal(GpioFeatures.Irq | VirtioFeatures.RingIndirectDesc | VirtioFeatures.RingEventIdx | VirtioFeatures.Version1, device.DeviceFeatures);
        Assert.Equal(0UL, device.DeviceFeatures & (VirtioFeatures.InOrder | VirtioFeatures.RingPacked));
        Assert.Equal(2, device.QueueCount);
        Assert.Equal(256, device.GetQueue(0).MaxSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => device.GetQueue(2));

        using var minimal = new VirtioGpioDevice(new VirtioGpioDeviceOptions
        {
            LineCount = 1,
            OfferInterrupts = false,
            OfferIndirectDescriptors = false,
            OfferEventIndex = false,
        });
        Assert.Equal(VirtioFeatures.Version1, minimal.DeviceFeatures);
        Assert.Equal(2, minimal.QueueCount); // the eventq exists even without F_IRQ (QEMU always sets up two queues)
    }

    [Fact]
    public void FeaturesOkIsRefusedForBitsNotOffered()
    {
        using var device = new VirtioGpioDevice(new VirtioGpioDeviceOptions { LineCount = 4, OfferEventIndex = false });
        Assert.False(device.TryAcceptFeatures(VirtioFeatures.Version1 | VirtioFeatures.RingEventIdx));
        Assert.Equal(0UL, device.DriverFeatures);
        Assert.False(device.TryAcceptFeatures(VirtioFeatures.Version1 | VirtioFeatures.InOrder));
        Assert.True(device.TryAcceptFeatures(VirtioFeatures.Version1 | GpioFeatures.Irq));
        Assert.Equal(VirtioFeatures.Version1 | GpioFeatures.Irq, device.DriverFeatures);
    }

    [Fact]
    public void LineCountNamesAndBackendMustAgree()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new VirtioGpioDevice(new VirtioGpioDeviceOptions()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VirtioGpioDevice(new VirtioGpioDeviceOptions { LineCount = 65536 }));
        Assert.Throws<ArgumentException>(() => new VirtioGpioDevice(new VirtioGpioDeviceOptions { LineCount = 3, LineNames = new GpioLineNames(new[] { "a" }) }));
        using var lines = new SimulatedGpioLineBackend(new GpioLineNames(new[] { "LED", "BUTTON" }));
        using var device = new VirtioGpioDevice(new VirtioGpioDeviceOptions { Backend = lines });
        Assert.Equal(2, device.LineCount);
        Assert.Equal("BUTTON", device.LineNames[1]);
        Assert.Equal(11u, device.LineNamesSize);

        // A backend serves one device.
        Assert.Throws<InvalidOperationException>(() => new VirtioGpioDevice(new VirtioGpioDeviceOptions { Backend = lines }));
        device.Dispose();
        using var second = new VirtioGpioDevice(new VirtioGpioDeviceOptions { Backend = lines }); // detached on dispose
    }

    [Fact]
    public void InterruptAndRequestEventsAreRaisedOutsideTheLock()
    {
        using GpioHarness h = Create();
        var interrupts = new List<GpioInterruptEvent>();
        var requests = new List<GpioRequestEvent>();
        bool otherThreadGotIn = true;
        h.Device.InterruptDelivered += (_, e) =>
        {
            interrupts.Add(e);

            // Another thread must be able to take the device lock while we are in the handler.
            var t = Task.Run(() => h.Device.GetLineState(0));
            otherThreadGotIn &= t.Wait(TimeSpan.FromSeconds(10));
        };
        h.Device.RequestProcessed += (_, e) => requests.Add(e);

        Ok(h.Driver.SetDirection(3, DirIn));
        Ok(h.Driver.SetIrqType(3, EdgeRising));
        Err(h.Driver.SetIrqType(3, LevelHigh));
        h.Driver.ArmIrq(3);
        h.Lines.SetInputLevel(3, LineValue.High);
        Valid(h.TakeIrq(), 3);
        Ok(h.Driver.SetIrqType(3, IrqNone));
        h.Driver.ArmIrq(3);
        Ok(h.Driver.SetDirection(3, DirNone));
        Invalid(h.TakeIrq(), 3);

        Assert.True(otherThreadGotIn);
        Assert.Equal(new[] { GpioIrqStatus.Valid, GpioIrqStatus.Invalid }, interrupts.Select(e => e.Status));
        Assert.All(interrupts, e => Assert.Equal(3, e.LineNumber));
        Assert.Equal(h.Time.GetUtcNow(), interrupts[0].Timestamp);
        Assert.Equal(
            new[] { GpioStatus.Ok, GpioStatus.Ok, GpioStatus.Err, GpioStatus.Ok, GpioStatus.Ok },
            requests.Select(r => r.Status));
        Assert.Equal(GpioMessageType.SetIrqType, requests[2].Type);
        Assert.Equal(4u, requests[2].Value);
    }

    [Fact]
    public void AThrowingHandlerNeverReachesTheGuestOrTheCaller()
    {
        using GpioHarness h = Create();
        h.Device.RequestProcessed += (_, _) => throw new InvalidOperationException("handler bug");
        Ok(h.Driver.GetValue(0));
        Ok(h.Driver.GetValue(1));
    }

    [Fact]
    public void MetricsCountRequestsErrorsInterruptsAndNotifications()
    {
        using GpioHarness h = Create();
        var totals = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "VirtioGpio")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            lock (totals)
            {
                totals[instrument.Name] = totals.GetValueOrDefault(instrument.Name) + value;
            }
        });
        listener.Start();

        Ok(h.Driver.SetDirection(1, DirIn));
        Err(h.Driver.GetValue(99));
        Ok(h.Driver.SetIrqType(1, EdgeBoth));
        h.Driver.ArmIrq(1);
        h.Lines.Toggle(1);
        Valid(h.TakeIrq(), 1);

        // Other devices in the process share the meter name: assert lower bounds only.
        Assert.True(totals.GetValueOrDefault("virtio_gpio.requests") >= 3);
        Assert.True(totals.GetValueOrDefault("virtio_gpio.request_errors") >= 1);
        Assert.True(totals.GetValueOrDefault("virtio_gpio.interrupts") >= 1);
        Assert.True(totals.GetValueOrDefault("virtio_gpio.notifications") >= 4);
    }

    [Fact]
    public void ResetQueueForgetsHeldPairsWithoutCompletingThemAndKeepsLineState()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(2, DirIn));
        Ok(h.Driver.SetIrqType(2, EdgeRising));
        h.Driver.ArmIrq(2);
        ushort usedBefore = h.Driver.EventQueue!.ReadUsedIndex();

        h.Device.SetQueueReady(1, false);
        h.Device.ResetQueue(1);
        h.Lines.SetInputLevel(2, LineValue.High); // latches: no pair any more

        Assert.Equal(usedBefore, h.Driver.EventQueue.ReadUsedIndex());
        GpioLineState state = h.Device.GetLineState(2);
        Assert.Equal(GpioIrqType.EdgeRising, state.IrqType);
        Assert.False(state.IsInterruptArmed);
        Assert.True(state.IsEdgeLatched);
    }

    [Fact]
    public void AfterResetQueueTheDriverCanReOfferTheSameHead()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(5, DirIn));
        Ok(h.Driver.SetIrqType(5, EdgeRising));
        h.Driver.ArmIrq(5);
        ushort head = FindOutstandingHead(h);

        h.Device.SetQueueReady(1, false);
        h.Device.ResetQueue(1);
        Assert.False(h.Device.GetLineState(5).IsInterruptArmed);

        // Same ring, same indices: the driver offers the head again (vhost-user restart with the same base).
        h.Driver.EventQueue!.StageAvailEntry(head);
        h.Driver.EventQueue.Publish();
        Assert.Equal(VirtqueueError.None, h.Device.SetQueueReady(1, true));
        Assert.True(h.Device.GetLineState(5).IsInterruptArmed);
        Assert.Equal(0, h.Device.GetQueue(1).InvalidChainCount);
    }

    [Fact]
    public void ResubmittedEventPairsAreReArmedAndRequestsReExecuted()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(5, DirIn));
        Ok(h.Driver.SetIrqType(5, EdgeRising));
        h.Driver.ArmIrq(5);
        SplitQueue eventq = h.Device.GetQueue(1);
        ushort head = h.Driver.EventQueue!.GetDeviceWritableRanges().Length > 1 ? FindOutstandingHead(h) : throw new InvalidOperationException();

        // Back-end restart: the device forgets the pair; the front-end's inflight region names its head.
        h.Device.SetQueueReady(1, false);
        h.Device.ResetQueue(1);
        Assert.True(eventq.TrySetState(eventq.GetState()));
        h.Device.ResubmitInflight(1, new[] { head });   // queue not ready yet: kept
        Assert.False(h.Device.GetLineState(5).IsInterruptArmed);
        Assert.Equal(VirtqueueError.None, h.Device.SetQueueReady(1, true));
        Assert.True(h.Device.GetLineState(5).IsInterruptArmed);

        h.Lines.SetInputLevel(5, LineValue.High);
        Valid(h.TakeIrq(), 5);

        // An out-of-range head is skipped, nothing breaks.
        h.Device.ResubmitInflight(1, new ushort[] { 60000 });
        Assert.False(h.Device.NeedsReset);
    }

    private static ushort FindOutstandingHead(GpioHarness h)
    {
        // The only outstanding eventq chain is the armed pair: find its head from the avail ring.
        SimulatedVirtioDriver q = h.Driver.EventQueue!;
        return q.ReadAvailEntry((q.AvailIndex - 1) % q.QueueSize);
    }

    [Fact]
    public async Task ConcurrentHostEventsAndRequestsNeverLoseOrDuplicateCompletions()
    {
        using GpioHarness h = Create(lines: 8);
        for (ushort line = 4; line < 8; line++)
        {
            Ok(h.Driver.SetDirection(line, DirIn));
            Ok(h.Driver.SetIrqType(line, EdgeBoth));
        }

        using var stop = new CancellationTokenSource();
        Task stimulus = Task.Run(() =>
        {
            var random = new Random(1);
            while (!stop.IsCancellationRequested)
            {
                h.Lines.Toggle(4 + random.Next(4));
            }
        });

        for (int round = 0; round < 200; round++)
        {
            for (ushort line = 4; line < 8; line++)
            {
                if (!h.Driver.IsIrqArmed(line))
                {
                    h.Driver.ArmIrq(line);
                }
            }

            Ok(h.Driver.SetValue((ushort)(round % 4), (uint)(round & 1)));
            while (h.Driver.TryTakeIrqCompletion(out GpioIrqCompletion c))
            {
                Assert.Equal(1u, c.UsedLength);
                Assert.Equal(1, c.Status);
            }
        }

        stop.Cancel();
        await stimulus.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(h.Driver.UnexpectedCompletions);
        Assert.False(h.Device.NeedsReset);

        // Quiet now: every line still delivers (a latched edge fires at arm, or the next toggle fires the held pair).
        for (ushort line = 4; line < 8; line++)
        {
            while (h.Driver.TryTakeIrqCompletion(out _))
            {
            }

            if (!h.Driver.IsIrqArmed(line))
            {
                h.Driver.ArmIrq(line);
            }

            if (h.Driver.IsIrqArmed(line))
            {
                h.Lines.Toggle(line);
            }

            Valid(h.TakeIrq(), line);
        }
    }

    [Fact]
    public void ActivateRejectsNullsAndReadyQueuesAndDisposedDevices()
    {
        using GpioHarness h = Create();
        Assert.Throws<ArgumentNullException>(() => h.Device.Activate(null!, h.Driver.Interrupts));
        Assert.Throws<InvalidOperationException>(() => h.Device.Activate(h.Driver.DeviceMemory, h.Driver.Interrupts));
        h.Device.Dispose();
        Assert.Throws<ObjectDisposedException>(() => h.Device.Activate(h.Driver.DeviceMemory, h.Driver.Interrupts));
        h.Device.NotifyQueue(0); // ignored
    }

    [Fact]
    public void DeviceOwnsTheSimulatedBackendItCreated()
    {
        var device = new VirtioGpioDevice(new VirtioGpioDeviceOptions { LineCount = 2 });
        var lines = Assert.IsType<SimulatedGpioLineBackend>(device.Backend);
        device.Dispose();
        Assert.Throws<ObjectDisposedException>(() => new VirtioGpioDevice(new VirtioGpioDeviceOptions { Backend = lines }));
    }
}
