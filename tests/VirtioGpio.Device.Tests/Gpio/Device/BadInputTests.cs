// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Tests.Conformance;
using VirtioGpio.Device.Virtqueues;
using static VirtioGpio.Device.Tests.Conformance.DeviceRequirementTests;
using static VirtioGpio.Device.Tests.Conformance.DriverDefenceTests;
using static VirtioGpio.Device.Tests.Conformance.GpioHarness;

namespace VirtioGpio.Device.Tests.Gpio.Device;

/// <summary>
/// Hostile or buggy guest input (issue 3 §7): each case gets its defined answer (ERR, IRQ INVALID or used length 0),
/// a rate-limited debug log, no effect on other lines, no exception and no stalled queue.
/// </summary>
public class BadInputTests
{
    public static TheoryData<string> Cases => new()
    {
        "unknown-type", "type-zero", "gpio-out-of-range", "gpio-0xffff", "short-request", "empty-request",
        "response-too-small", "response-absent", "response-too-large", "invalid-irq-type", "invalid-direction",
        "invalid-value", "names-buffer-too-small", "event-unknown-line", "event-short-request", "event-no-response",
        "event-duplicate", "event-output-line",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInputGetsItsDefinedAnswerAndLeavesOtherLinesAlone(string kind)
    {
        var logs = new CapturingLoggerFactory();
        using GpioHarness h = Create(lines: 8, configure: o =>
        {
            o.LoggerFactory = logs;
            o.LineNames = new GpioLineNames(new[] { "OUT0", "IN1", string.Empty, string.Empty, string.Empty, string.Empty, string.Empty, string.Empty });
        });

        // Reference state on lines 0 and 1 that no bad input may disturb.
        Ok(h.Driver.DirectionOutput(0, 1));
        Ok(h.Driver.SetDirection(1, DirIn));
        Ok(h.Driver.SetIrqType(1, EdgeRising));
        h.Driver.ArmIrq(1);
        Ok(h.Driver.DirectionOutput(4, 0));
        Ok(h.Driver.SetDirection(5, DirIn));
        Ok(h.Driver.SetIrqType(5, EdgeBoth));
        h.Driver.ArmIrq(5);
        GpioLineState[] before = Enumerable.Range(0, 8).Select(h.Device.GetLineState).ToArray();
        int logsBefore = logs.Count;

        bool expectLog = Run(h, kind);

        GpioLineState[] after = Enumerable.Range(0, 8).Select(h.Device.GetLineState).ToArray();
        Assert.Equal(before[0], after[0]);
        Assert.Equal(before[1], after[1]);
        Assert.Equal(before[2], after[2]);
        Assert.False(h.Device.NeedsReset);
        Assert.True(!expectLog || logs.Count > logsBefore, "a debug entry explains the rejection");

        // Neither queue stalled.
        Assert.Equal(1, Ok(h.Driver.GetValue(0)).Value);
        h.Lines.SetInputLevel(1, LineValue.High);
        Valid(h.TakeIrq(), 1);
        Assert.Empty(h.Driver.UnexpectedCompletions);
    }

    private static bool Run(GpioHarness h, string kind)
    {
        switch (kind)
        {
            case "unknown-type":
                Err(h.Driver.SendRequest(0x0007, 2, 0));
                Err(h.Driver.SendRequest(0xFFFF, 2, 0));
                break;
            case "type-zero":
                Err(h.Driver.SendRequest(0x0000, 2, 0));
                break;
            case "gpio-out-of-range":
                Err(h.Driver.SendRequest(SetValue, 8, 1));
                break;
            case "gpio-0xffff":
                Err(h.Driver.SendRequest(SetDirection, 0xFFFF, DirOut));
                break;
            case "short-request":
                Err(h.Driver.WaitForCompletion(h.Driver.SubmitRawRequest(new ReadOnlyMemory<byte>[] { Request(SetValue, 2, 1).AsMemory(0, 4) }, new[] { 2 })));
                break;
            case "empty-request":
                Err(h.Driver.WaitForCompletion(h.Driver.SubmitRawRequest(new ReadOnlyMemory<byte>[] { Array.Empty<byte>() }, new[] { 2 })));
                break;
            case "response-too-small":
            {
                GpioCompletion c = h.Driver.SendRequest(SetValue, 2, 1, responseSize: 1);
                Assert.Equal(1u, c.UsedLength);
                Assert.Equal(new byte[] { 1 }, c.ResponseBuffer);
                break;
            }

            case "response-absent":
                Assert.Equal(0u, h.Driver.SendRequest(SetValue, 2, 1, responseSize: 0).UsedLength);
                break;
            case "response-too-large":
            {
                GpioCompletion c = h.Driver.SendRequest(GetValue, 0x99, 0, responseSize: 64);
                Assert.Equal(2u, c.UsedLength);
                Assert.Equal(new byte[] { 1, 0 }, c.ResponseBuffer.Take(2).ToArray());
                Assert.All(c.ResponseBuffer.Skip(2), b => Assert.Equal(0xAA, b));
                break;
            }

            case "invalid-irq-type":
                Err(h.Driver.SetIrqType(2, 0x0C));
                break;
            case "invalid-direction":
                Err(h.Driver.SetDirection(2, 0x101));
                break;
            case "invalid-value":
                Err(h.Driver.SetValue(2, 2));
                break;
            case "names-buffer-too-small":
            {
                GpioCompletion c = h.Driver.SendRequest(GetLineNames, 0, 0, responseSize: 2);
                Assert.Equal(2u, c.UsedLength);
                Assert.Equal(new byte[] { 1, 0 }, c.ResponseBuffer);
                break;
            }

            case "event-unknown-line":
                h.Driver.SubmitRawEventBuffers(8, new ReadOnlyMemory<byte>[] { IrqRequest(8) }, new[] { 1 }, null);
                Invalid(h.TakeIrq(), 8);
                break;
            case "event-short-request":
                h.Driver.SubmitRawEventBuffers(2, new ReadOnlyMemory<byte>[] { new byte[] { 2 } }, new[] { 1 }, null);
                Invalid(h.TakeIrq(), 2);
                break;
            case "event-no-response":
            {
                h.Driver.SubmitRawEventBuffers(2, new ReadOnlyMemory<byte>[] { IrqRequest(2) }, Array.Empty<int>(), null);
                GpioIrqCompletion c = h.TakeIrq()!;
                Assert.Equal(0u, c.UsedLength);
                break;
            }

            case "event-duplicate":
                h.Driver.ArmIrq(5);
                Invalid(h.TakeIrq(), 5);
                Assert.True(h.Device.GetLineState(5).IsInterruptArmed);
                break;
            case "event-output-line":
                // An output line cannot be enabled (R6), so its pair is held like any pair for a disabled line …
                h.Driver.ArmIrq(4);
                Assert.Null(h.TakeIrq());
                Assert.True(h.Device.GetLineState(4).IsInterruptArmed);

                // … and comes back INVALID when the line is released (D7).
                Ok(h.Driver.SetDirection(4, DirNone));
                Invalid(h.TakeIrq(), 4);
                Assert.Equal(0, Ok(h.Driver.GetDirection(4)).Value);
                return false; // holding is not a rejection: nothing to log
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }

        return true;
    }

    [Fact]
    public void RequestsBeforeDriverOkAreNotProcessedAndNotLost()
    {
        using GpioHarness h = Create(initialize: false);
        var memory = new TestGuestMemory(1 << 20);
        var q = new SimulatedVirtioDriver(memory, 16);
        Assert.True(h.Device.TryAcceptFeatures(VirtioFeatures.Version1));
        Assert.Equal(VirtqueueError.None, q.ConfigureDeviceQueue(h.Device.GetQueue(0), memory.RegionMemory, activate: false));
        q.AddChain(new ReadOnlyMemory<byte>[] { Request(SetDirection, 0, DirOut) }, new[] { 2 });
        q.Publish();

        h.Device.NotifyQueue(0);
        Assert.Equal(VirtqueueError.QueueNotReady, h.Device.SetQueueReady(0, true));
        Assert.Equal(0, q.ReadUsedIndex());
        Assert.Equal(GpioDirection.None, h.Device.GetLineState(0).Direction);

        h.Device.Activate(memory.RegionMemory, new RecordingInterruptSink());
        Assert.Equal(VirtqueueError.None, h.Device.SetQueueReady(0, true));
        Assert.Equal(new byte[] { 0, 0 }, Assert.Single(q.TakeAllUsed()).Written.ToArray());
        Assert.Equal(GpioDirection.Output, h.Device.GetLineState(0).Direction);
    }

    [Fact]
    public void GuestTriggeredLogsAreRateLimited()
    {
        var logs = new CapturingLoggerFactory();
        using GpioHarness h = Create(configure: o => o.LoggerFactory = logs);
        int before = logs.Count;
        for (int i = 0; i < 500; i++)
        {
            Err(h.Driver.GetValue(200));
        }

        int logged = logs.Count - before;
        Assert.InRange(logged, 1, 25); // the time provider is frozen: one window

        h.Time.Advance(TimeSpan.FromSeconds(2));
        Err(h.Driver.GetValue(200));
        Assert.Contains(logs.Messages, m => m.Contains("suppressed", StringComparison.Ordinal));
    }

    private sealed class CapturingLoggerFactory : ILoggerFactory, ILogger
    {
        private readonly List<string> _messages = new();

        public int Count
        {
            get
            {
                lock (_messages)
                {
                    return _messages.Count;
                }
            }
        }

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages)
                {
                    return _messages.ToArray();
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_messages)
            {
                _messages.Add(formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }
}
