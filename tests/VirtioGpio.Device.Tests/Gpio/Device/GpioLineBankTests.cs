// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Time.Testing;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Internal;
using VirtioGpio.Device.Memory;

namespace VirtioGpio.Device.Tests.Gpio.Device;

/// <summary>The line state machine alone (STANDARD.md §6.2 transition table, §4.4 policy table), without queues.</summary>
public class GpioLineBankTests
{
    private sealed class Completer : IHeldPairCompleter
    {
        public bool CanCompletePairs { get; set; } = true;

        public List<(int Line, ushort Head, ulong Address, GpioIrqStatus Status)> Completed { get; } = new();

        public void CompletePair(int lineNumber, ushort headIndex, GuestAddress response, GpioIrqStatus status)
            => Completed.Add((lineNumber, headIndex, response.Value, status));
    }

    private sealed class Fixture
    {
        public Fixture(int lines = 4, bool strict = false, bool implicitChange = false, bool readNone = true, int burst = 4)
        {
            Lines = new SimulatedGpioLineBackend(lines, Time);
            Bank = new GpioLineBank(Lines, Completer, Time, strict, burst, TimeSpan.FromSeconds(1), implicitChange, readNone);
        }

        public FakeTimeProvider Time { get; } = new();

        public SimulatedGpioLineBackend Lines { get; }

        public Completer Completer { get; } = new();

        public GpioLineBank Bank { get; }

        public void Level(int line, bool high)
        {
            Lines.SetInputLevel(line, high);
            Bank.OnLevelChanged(line, high);
        }
    }

    private static void Ok(LineResult result) => Assert.Equal(GpioStatus.Ok, result.Status);

    private static void Err(LineResult result)
    {
        Assert.Equal(GpioStatus.Err, result.Status);
        Assert.Equal(0, result.Value); // D1: the value byte is zero on failure
    }

    [Theory]
    [InlineData((ushort)0, true)]
    [InlineData((ushort)3, true)]
    [InlineData((ushort)4, false)]
    [InlineData(ushort.MaxValue, false)]
    public void TryGetLineIsTheOnlyBoundaryFromWireToIndex(ushort wire, bool valid)
    {
        var f = new Fixture(lines: 4);
        Assert.Equal(valid, f.Bank.TryGetLine(wire, out int line));
        Assert.Equal(valid ? wire : -1, line);
    }

    [Fact]
    public void EnableWithHeldPairAndActiveLevelReturnsValidElseKeepsItArmed()
    {
        var f = new Fixture();
        Ok(f.Bank.SetDirection(0, 2));
        Assert.Equal(PairOutcome.Held, f.Bank.OnPairArrived(0, 7, new GuestAddress(0x700), out _));
        Ok(f.Bank.SetIrqType(0, 4, true)); // LEVEL_HIGH, level low: keep armed
        Assert.Empty(f.Completer.Completed);
        Ok(f.Bank.SetIrqType(0, 0, true));
        Assert.Equal((0, (ushort)7, 0x700UL, GpioIrqStatus.Invalid), Assert.Single(f.Completer.Completed));

        Assert.Equal(PairOutcome.Held, f.Bank.OnPairArrived(0, 8, new GuestAddress(0x800), out _));
        Ok(f.Bank.SetIrqType(0, 8, true)); // LEVEL_LOW, level low: VALID at once
        Assert.Equal((0, (ushort)8, 0x800UL, GpioIrqStatus.Valid), f.Completer.Completed[1]);
    }

    [Fact]
    public void DifferentTypeWhileEnabledIsErrAndChangesNothing()
    {
        var f = new Fixture();
        Ok(f.Bank.SetIrqType(1, 1, true));
        f.Level(1, true); // latched
        LineResult r = f.Bank.SetIrqType(1, 2, true);
        Err(r);
        Assert.Equal(RejectReason.IrqTypeChangeWhileEnabled, r.Reason);
        Assert.Equal(GpioIrqType.EdgeRising, f.Bank.GetState(1).IrqType);
        Assert.True(f.Bank.GetState(1).IsEdgeLatched);
        Ok(f.Bank.SetIrqType(1, 1, true)); // same type: no-op, latch kept
        Assert.True(f.Bank.GetState(1).IsEdgeLatched);
    }

    [Fact]
    public void PairArrivalRowsOfTheTransitionTable()
    {
        var f = new Fixture();

        // irqType NONE → hold (default).
        Assert.Equal(PairOutcome.Held, f.Bank.OnPairArrived(0, 1, new GuestAddress(0x10), out _));

        // a pair is already held → the new one INVALID, old kept.
        Assert.Equal(PairOutcome.CompleteInvalid, f.Bank.OnPairArrived(0, 2, new GuestAddress(0x20), out RejectReason dup));
        Assert.Equal(RejectReason.DuplicateEventPair, dup);
        Assert.True(f.Bank.GetState(0).IsInterruptArmed);

        // edge type, latched → VALID at once, latch cleared.
        Ok(f.Bank.SetIrqType(1, 3, true));
        f.Level(1, true);
        Assert.Equal(PairOutcome.CompleteValid, f.Bank.OnPairArrived(1, 3, new GuestAddress(0x30), out _));
        Assert.False(f.Bank.GetState(1).IsEdgeLatched);

        // level type, active → VALID at once; otherwise held.
        Ok(f.Bank.SetIrqType(2, 4, true));
        Assert.Equal(PairOutcome.Held, f.Bank.OnPairArrived(2, 4, new GuestAddress(0x40), out _));
        f.Level(2, true);
        Assert.Equal(GpioIrqStatus.Valid, f.Completer.Completed.Last().Status);
        Assert.Equal(PairOutcome.CompleteValid, f.Bank.OnPairArrived(2, 5, new GuestAddress(0x50), out _));
    }

    [Fact]
    public void EdgeTypesMatchOnlyTheirEdges()
    {
        var f = new Fixture();
        Ok(f.Bank.SetIrqType(0, 1, true)); // rising
        Ok(f.Bank.SetIrqType(1, 2, true)); // falling
        f.Level(0, true);
        f.Level(1, true);
        Assert.True(f.Bank.GetState(0).IsEdgeLatched);
        Assert.False(f.Bank.GetState(1).IsEdgeLatched);
        f.Level(1, false);
        Assert.True(f.Bank.GetState(1).IsEdgeLatched);
    }

    [Fact]
    public void SuspendedEventqLatchesEdgesDefersInvalidAndResumeDelivers()
    {
        var f = new Fixture();
        Ok(f.Bank.SetIrqType(0, 1, true));
        Ok(f.Bank.SetIrqType(1, 1, true));
        Ok(f.Bank.SetIrqType(2, 4, true));
        f.Bank.OnPairArrived(0, 10, new GuestAddress(0x100), out _);
        f.Bank.OnPairArrived(1, 11, new GuestAddress(0x110), out _);
        f.Bank.OnPairArrived(2, 12, new GuestAddress(0x120), out _);

        f.Completer.CanCompletePairs = false;
        f.Level(0, true);                          // latched, not completed
        Ok(f.Bank.SetIrqType(1, 0, true));  // INVALID due, deferred
        f.Level(2, true);                          // level: re-evaluated at resume
        Assert.Empty(f.Completer.Completed);
        Assert.False(f.Bank.GetState(1).IsInterruptArmed);

        f.Completer.CanCompletePairs = true;
        f.Bank.OnEventQueueResumed();
        Assert.Equal(
            new[] { (0, (ushort)10, GpioIrqStatus.Valid), (1, (ushort)11, GpioIrqStatus.Invalid), (2, (ushort)12, GpioIrqStatus.Valid) },
            f.Completer.Completed.Select(c => (c.Line, c.Head, c.Status)));
    }

    [Fact]
    public void ForgetPairsDropsHeldPairsWithoutCompletingAndKeepsLineState()
    {
        var f = new Fixture();
        Ok(f.Bank.SetIrqType(0, 3, true));
        f.Bank.OnPairArrived(0, 1, new GuestAddress(0x10), out _);
        f.Bank.ForgetPairs();
        Assert.Empty(f.Completer.Completed);
        Assert.Equal(new GpioLineState(0, GpioDirection.None, LineValue.Low, GpioIrqType.EdgeBoth, false, false), f.Bank.GetState(0));
        f.Level(0, true);
        Assert.True(f.Bank.GetState(0).IsEdgeLatched);
    }

    [Fact]
    public void ResetRestoresDefaultsReleasesTheBackendAndKeepsHostLevels()
    {
        var f = new Fixture();
        Ok(f.Bank.SetValue(0, 1));
        Ok(f.Bank.SetDirection(0, 1));
        Ok(f.Bank.SetIrqType(1, 8, true));
        f.Lines.SetInputLevel(2, LineValue.High);
        f.Bank.Reset();

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(new GpioLineState(i, GpioDirection.None, LineValue.Low, GpioIrqType.None, false, false), f.Bank.GetState(i));
        }

        Assert.Equal(GpioDirection.None, f.Lines.GetDirection(0));
        Assert.Equal(GpioIrqType.None, f.Lines.GetIrqType(1));
        LineResult r = f.Bank.GetValue(2);
        Ok(r);
        Assert.Equal(1, r.Value);
    }

    [Fact]
    public void GetValueOnNoneLineFollowsThePolicy()
    {
        var strict = new Fixture(readNone: false);
        LineResult r = strict.Bank.GetValue(0);
        Err(r);
        Assert.Equal(RejectReason.UnconfiguredLineRead, r.Reason);
        Assert.Equal(0, r.Value);
        Ok(strict.Bank.SetDirection(0, 2));
        Ok(strict.Bank.GetValue(0));
    }

    [Fact]
    public void BackendFailuresBecomeErrNeverExceptions()
    {
        var backend = new ThrowingBackend();
        var completer = new Completer();
        var bank = new GpioLineBank(backend, completer, TimeProvider.System);
        LineResult r = bank.SetDirection(0, 1);
        Err(r);
        Assert.Equal(RejectReason.BackendFailure, r.Reason);
        Assert.Equal(GpioDirection.None, bank.GetState(0).Direction);
        Err(bank.SetValue(0, 1));
        Err(bank.GetValue(0));
        Assert.IsType<IOException>(bank.TakeBackendException());
        Assert.Null(bank.TakeBackendException());
    }

    [Fact]
    public void StrictInvalidReturnsAreRateLimitedPerLine()
    {
        var f = new Fixture(strict: true, burst: 3);
        int invalid = 0;
        for (int i = 0; i < 1000; i++)
        {
            if (f.Bank.OnPairArrived(0, 1, new GuestAddress(0x10), out _) == PairOutcome.CompleteInvalid)
            {
                invalid++;
            }
            else
            {
                break; // held
            }
        }

        Assert.Equal(3, invalid);
        Assert.True(f.Bank.GetState(0).IsInterruptArmed);
        Assert.Equal(1, f.Bank.StrictInvalidSuppressed);

        // Another line has its own budget.
        Assert.Equal(PairOutcome.CompleteInvalid, f.Bank.OnPairArrived(1, 2, new GuestAddress(0x20), out _));
    }

    private sealed class ThrowingBackend : GpioLineBackend
    {
        public override int LineCount => 2;

        public override LineValue Read(int lineNumber) => throw new IOException("EIO");

        public override void Write(int lineNumber, LineValue value) => throw new IOException("EIO");

        public override void SetDirection(int lineNumber, GpioDirection direction, LineValue initialValue) => throw new IOException("EIO");

        public override void SetIrqType(int lineNumber, GpioIrqType irqType) => throw new IOException("EIO");
    }
}
