// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Time.Testing;
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Device.Tests.Gpio.Backends;

public class SimulatedGpioLineBackendTests
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static (SimulatedGpioLineBackend Lines, FakeTimeProvider Time, RecordingLineEventSink Sink, List<GpioLineChange> Changes) Create(int count = 4)
    {
        var time = new FakeTimeProvider(Epoch);
        var lines = new SimulatedGpioLineBackend(count, time);
        var sink = new RecordingLineEventSink();
        lines.Attach(sink);
        var changes = new List<GpioLineChange>();
        lines.LineChanged += (_, c) =>
        {
            lock (changes)
            {
                changes.Add(c);
            }
        };
        return (lines, time, sink, changes);
    }

    [Fact]
    public void LinesStartUnconfiguredAndLow()
    {
        using var lines = new SimulatedGpioLineBackend(new GpioLineNames(new[] { "LED", "" }));
        Assert.Equal(2, lines.LineCount);
        Assert.Equal("LED", lines.GetLineName(0));
        Assert.Equal(string.Empty, lines.GetLineName(1));
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(GpioDirection.None, lines.GetDirection(i));
            Assert.Equal(GpioIrqType.None, lines.GetIrqType(i));
            Assert.Equal(LineValue.Low, lines.Read(i));
        }
    }

    [Fact]
    public void ConstructorAndLineNumbersAreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatedGpioLineBackend(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatedGpioLineBackend(65536));
        Assert.Throws<ArgumentException>(() => new SimulatedGpioLineBackend(GpioLineNames.CreateUnnamed(0)));
        using var lines = new SimulatedGpioLineBackend(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => lines.SetInputLevel(2, LineValue.High));
        Assert.Throws<ArgumentOutOfRangeException>(() => lines.Read(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => lines.Write(2, LineValue.High));
    }

    [Fact]
    public void GuestDrivenOutputIsReadBackAndRecorded()
    {
        var (lines, time, sink, changes) = Create();
        time.Advance(TimeSpan.FromMilliseconds(5));
        lines.SetDirection(1, GpioDirection.Output, LineValue.High);
        lines.Write(1, LineValue.Low);
        lines.Write(1, LineValue.Low); // no change, no record

        Assert.Equal(LineValue.Low, lines.Read(1));
        Assert.Equal(GpioDirection.Output, lines.GetDirection(1));
        Assert.Equal(2, changes.Count);
        Assert.Equal((LineValue.Low, LineValue.High, GpioDirection.Output, GpioLineChangeSource.Guest), (changes[0].OldValue, changes[0].NewValue, changes[0].Direction, changes[0].Source));
        Assert.True(changes[0].IsEdge);
        Assert.Equal(Epoch.AddMilliseconds(5), changes[0].Timestamp);
        Assert.Equal((LineValue.High, LineValue.Low), (changes[1].OldValue, changes[1].NewValue));
        Assert.True(changes[1].SequenceNumber > changes[0].SequenceNumber);
        Assert.Empty(sink.Events); // guest changes never reach the sink
    }

    [Fact]
    public void WriteOnANonOutputLineIsLatchedAndNotDriven()
    {
        var (lines, _, _, changes) = Create();
        lines.SetDirection(0, GpioDirection.Input, LineValue.Low);
        changes.Clear();
        lines.Write(0, LineValue.High);
        Assert.Equal(LineValue.Low, lines.Read(0));
        Assert.Equal(LineValue.High, lines.GetOutputValue(0));
        Assert.Empty(changes);
    }

    [Fact]
    public void DirectionAndIrqTypeChangesAreRecordedWithoutEdges()
    {
        var (lines, _, _, changes) = Create();
        lines.SetDirection(2, GpioDirection.Input, LineValue.Low);
        lines.SetIrqType(2, GpioIrqType.EdgeBoth);
        lines.SetIrqType(2, GpioIrqType.EdgeBoth); // unchanged
        Assert.Equal(2, changes.Count);
        Assert.All(changes, c => Assert.False(c.IsEdge));
        Assert.Equal(GpioIrqType.EdgeBoth, changes[1].IrqType);
        Assert.Equal(GpioIrqType.EdgeBoth, lines.GetIrqType(2));
    }

    [Fact]
    public void HostStimulusOnAnInputReachesTheSinkWithTheClockTimestamp()
    {
        var (lines, time, sink, changes) = Create();
        lines.SetDirection(3, GpioDirection.Input, LineValue.Low);
        changes.Clear();
        time.Advance(TimeSpan.FromSeconds(1));
        lines.SetInputLevel(3, LineValue.High);
        lines.SetInputLevel(3, LineValue.High); // same level: nothing

        var e = Assert.Single(sink.Events);
        Assert.Equal((3, LineValue.High, Epoch.AddSeconds(1)), (e.Line, e.Level, e.Timestamp));
        var c = Assert.Single(changes);
        Assert.Equal(GpioLineChangeSource.Host, c.Source);
        Assert.True(c.Applied);
        Assert.Equal(LineValue.High, lines.Read(3));
    }

    [Fact]
    public void StimulusOnAnUnconfiguredLineIsSensed()
    {
        var (lines, _, sink, _) = Create();
        lines.SetInputLevel(0, LineValue.High);
        Assert.Single(sink.Events);
        Assert.Equal(LineValue.High, lines.Read(0));
    }

    [Fact]
    public void HostStimulusOnAGuestOutputIsRecordedButDoesNotChangeTheDrivenLevel()
    {
        var (lines, _, sink, changes) = Create();
        lines.SetDirection(0, GpioDirection.Output, LineValue.Low);
        changes.Clear();

        lines.SetInputLevel(0, LineValue.High);

        Assert.Equal(LineValue.Low, lines.Read(0));
        Assert.Equal(LineValue.High, lines.GetInputLevel(0));
        Assert.Empty(sink.Events);
        var c = Assert.Single(changes);
        Assert.False(c.Applied);
        Assert.False(c.IsEdge);
        Assert.Equal(GpioLineChangeSource.Host, c.Source);

        // The guest releases the line to input: it senses the remembered stimulus; no sink event for a guest switch.
        lines.SetDirection(0, GpioDirection.Input, LineValue.Low);
        Assert.Equal(LineValue.High, lines.Read(0));
        Assert.Empty(sink.Events);
    }

    [Fact]
    public void PulseProducesTwoEdgesInOrder()
    {
        var (lines, _, sink, _) = Create();
        lines.SetDirection(1, GpioDirection.Input, LineValue.Low);
        lines.Pulse(1);
        Assert.Equal(new[] { LineValue.High, LineValue.Low }, sink.Events.Select(e => e.Level));
        Assert.Equal(LineValue.Low, lines.Read(1));

        lines.SetInputLevel(1, LineValue.High);
        lines.Pulse(1, LineValue.High); // from high: low, high, low
        Assert.Equal(new[] { LineValue.High, LineValue.Low, LineValue.High, LineValue.Low, LineValue.High, LineValue.Low }, sink.Events.Select(e => e.Level));

        lines.Toggle(1);
        Assert.Equal(LineValue.High, sink.Events[^1].Level);
    }

    [Fact]
    public void DetachedSinkReceivesNothingAndASecondSinkIsRefused()
    {
        var (lines, _, sink, _) = Create();
        Assert.Throws<InvalidOperationException>(() => lines.Attach(new RecordingLineEventSink()));
        lines.Attach(sink); // same sink again: fine
        lines.Attach(null);
        lines.SetInputLevel(0, LineValue.High);
        Assert.Empty(sink.Events);
        var other = new RecordingLineEventSink();
        lines.Attach(other);
        lines.SetInputLevel(0, LineValue.Low);
        Assert.Single(other.Events);
        lines.Dispose();
        Assert.Throws<ObjectDisposedException>(() => lines.Attach(new RecordingLineEventSink()));
    }

    [Fact]
    public void BatchReadReturnsEveryRequestedLine()
    {
        var (lines, _, _, _) = Create();
        lines.SetInputLevel(2, LineValue.High);
        lines.SetDirection(0, GpioDirection.Output, LineValue.High);
        Span<LineValuePair> pairs = stackalloc LineValuePair[] { new(2, default), new(1, default), new(0, default) };
        lines.Read(pairs);
        Assert.Equal(new[] { (2, true), (1, false), (0, true) }, pairs.ToArray().Select(p => (p.LineNumber, p.Value.IsHigh)));
    }

    [Fact]
    public void DefaultBatchReadLoopsOverRead()
    {
        using var backend = new ParityBackend();
        var pairs = new[] { new LineValuePair(3, default), new LineValuePair(4, default) };
        backend.Read(pairs.AsSpan());
        Assert.Equal(new[] { true, false }, pairs.Select(p => p.Value.IsHigh));
        Assert.Equal(string.Empty, backend.GetLineName(0));
    }

    [Fact]
    public void ConcurrentStimulusReachesTheSinkInOrderPerLine()
    {
        var (lines, _, sink, changes) = Create(4);
        const int threads = 8;
        const int togglesPerThread = 2000;
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(30));
            for (int i = 0; i < togglesPerThread; i++)
            {
                int line = t % 4;
                if (i % 3 == 0)
                {
                    lines.Pulse(line);
                }
                else
                {
                    lines.Toggle(line);
                }
            }
        })).ToArray();
        foreach (Thread w in workers)
        {
            w.Start();
        }

        foreach (Thread w in workers)
        {
            Assert.True(w.Join(TimeSpan.FromSeconds(60)), "worker did not finish");
        }

        var events = sink.Events;
        Assert.False(sink.OverlappingCallSeen);
        int expectedPerThread = Enumerable.Range(0, togglesPerThread).Sum(i => i % 3 == 0 ? 2 : 1);
        Assert.Equal(threads * expectedPerThread, events.Count);
        for (int line = 0; line < 4; line++)
        {
            var perLine = events.Where(e => e.Line == line).Select(e => e.Level).ToList();
            // Every delivered event is a real change, so per line the levels strictly alternate, starting high.
            for (int i = 0; i < perLine.Count; i++)
            {
                Assert.Equal(i % 2 == 0, perLine[i].IsHigh);
            }

            Assert.Equal(perLine[^1], lines.Read(line));
        }

        lock (changes)
        {
            Assert.Equal(events.Count, changes.Count);
            Assert.Equal(changes.Select(c => c.SequenceNumber).OrderBy(s => s), changes.Select(c => c.SequenceNumber));
            // The sink saw exactly the applied host changes, in sequence order.
            Assert.Equal(changes.Select(c => (c.LineNumber, c.NewValue)), events.Select(e => (e.Line, e.Level)));
        }
    }

    [Fact]
    public void LoopbackFromAGuestWriteReachesTheSinkOffTheDeviceThread()
    {
        var (lines, _, sink, _) = Create(2);
        lines.SetDirection(1, GpioDirection.Input, LineValue.Low);
        lines.LineChanged += (_, c) =>
        {
            if (c.Source == GpioLineChangeSource.Guest && c.LineNumber == 0 && c.IsEdge)
            {
                lines.SetInputLevel(1, c.NewValue); // wire line 0 → line 1
            }
        };
        int deviceThread = Environment.CurrentManagedThreadId;
        lines.SetDirection(0, GpioDirection.Output, LineValue.High);
        sink.WaitForCount(1, TimeSpan.FromSeconds(10));
        var e = Assert.Single(sink.Events);
        Assert.Equal((1, LineValue.High), (e.Line, e.Level));
        Assert.NotEqual(deviceThread, e.ThreadId);
    }

    private sealed class ParityBackend : GpioLineBackend
    {
        public override int LineCount => 8;

        public override LineValue Read(int lineNumber) => lineNumber % 2 == 1;

        public override void SetDirection(int lineNumber, GpioDirection direction, LineValue initialValue)
        {
        }

        public override void SetIrqType(int lineNumber, GpioIrqType irqType)
        {
        }

        public override void Write(int lineNumber, LineValue value)
        {
        }
    }
}
