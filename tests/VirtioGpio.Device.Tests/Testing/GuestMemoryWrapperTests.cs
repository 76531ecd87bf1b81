// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;

namespace VirtioGpio.Device.Tests.Testing;

public sealed class GuestMemoryWrapperTests
{
    [Fact]
    public void RecordingMemoryRecordsEveryAccessInOrder()
    {
        var recording = new RecordingGuestMemory(new TestGuestMemory(4096));
        recording.TryRead(new GuestAddress(0x10), new byte[4]);
        recording.TryWrite(new GuestAddress(0x20), new byte[2]);
        recording.TryGetSpan(new GuestAddress(0x30), 8, GuestMemoryAccess.Write, out _);
        recording.TryLoadAcquireUInt16(new GuestAddress(0x40), out _);
        recording.TryStoreReleaseUInt16(new GuestAddress(0x42), 1);
        recording.TryRead(new GuestAddress(0x2000), new byte[1]);

        IReadOnlyList<GuestMemoryAccessRecord> records = recording.Records;
        Assert.Equal(
            new[] { GuestMemoryOperation.Read, GuestMemoryOperation.Write, GuestMemoryOperation.GetSpan, GuestMemoryOperation.LoadAcquireUInt16, GuestMemoryOperation.StoreReleaseUInt16, GuestMemoryOperation.Read },
            records.Select(r => r.Operation));
        Assert.Equal(new GuestAddress(0x30), records[2].Address);
        Assert.Equal(8, records[2].Length);
        Assert.True(records[2].IsWrite);
        Assert.False(records[5].Succeeded);
    }

    [Fact]
    public void AssertNoWritesOutsideReportsOnlyOffendingWrites()
    {
        var recording = new RecordingGuestMemory(new TestGuestMemory(4096));
        var allowed = new GuestRange(0x100, 0x10);
        recording.TryWrite(new GuestAddress(0x100), new byte[0x10]);
        recording.TryRead(new GuestAddress(0x800), new byte[4]);
        recording.AssertNoWritesOutside(allowed);

        recording.TryWrite(new GuestAddress(0x10F), new byte[2]); // one byte past the end
        GuestMemoryAssertionException error = Assert.Throws<GuestMemoryAssertionException>(() => recording.AssertNoWritesOutside(allowed));
        Assert.Contains("0x10f", error.Message, StringComparison.Ordinal);
        Assert.Single(recording.FindAccessesOutside(GuestMemoryAccess.Write, allowed));
        Assert.Equal(2, recording.FindAccessesOutside(GuestMemoryAccess.ReadWrite, allowed).Count);
    }

    [Fact]
    public void AssertNoAccessOverlappingCatchesPartialOverlap()
    {
        var recording = new RecordingGuestMemory(new TestGuestMemory(4096));
        recording.TryGetSpan(new GuestAddress(0x0F8), 16, GuestMemoryAccess.ReadWrite, out _);
        Assert.Throws<GuestMemoryAssertionException>(() => recording.AssertNoAccessOverlapping(GuestMemoryAccess.Write, new GuestRange(0x100, 0x100)));
        recording.AssertNoAccessOverlapping(GuestMemoryAccess.Write, new GuestRange(0x108, 0x100));
    }

    [Fact]
    public void FaultInjectionFailsOverlappingAccessesOfTheChosenKindOnly()
    {
        var memory = new TestGuestMemory(4096);
        var faulty = new FaultInjectingGuestMemory(memory);
        faulty.AddFault(new GuestRange(0x200, 0x10), GuestMemoryAccess.Write, GuestMemoryError.AccessDenied);

        Assert.Equal(GuestMemoryError.AccessDenied, faulty.TryWrite(new GuestAddress(0x1FF), new byte[2]));
        Assert.Equal(GuestMemoryError.AccessDenied, faulty.TryStoreReleaseUInt16(new GuestAddress(0x20E), 1));
        Assert.Equal(GuestMemoryError.AccessDenied, faulty.TryGetSpan(new GuestAddress(0x200), 1, GuestMemoryAccess.ReadWrite, out _));
        Assert.Equal(GuestMemoryError.None, faulty.TryRead(new GuestAddress(0x200), new byte[16]));
        Assert.Equal(GuestMemoryError.None, faulty.TryWrite(new GuestAddress(0x210), new byte[16]));
        Assert.Equal(3, faulty.InjectedFaultCount);
        Assert.Equal(0, memory.ReadBytes(new GuestAddress(0x1FF), 1)[0]);
    }

    [Fact]
    public void FaultWithRemainingHitsHealsAfterwards()
    {
        var faulty = new FaultInjectingGuestMemory(new TestGuestMemory(4096));
        faulty.AddFault(new GuestRange(0, 4096), remainingHits: 1);
        Assert.Equal(GuestMemoryError.OutOfRange, faulty.TryRead(new GuestAddress(0), new byte[1]));
        Assert.Equal(GuestMemoryError.None, faulty.TryRead(new GuestAddress(0), new byte[1]));
        faulty.AddFault(new GuestRange(0, 1));
        faulty.ClearFaults();
        Assert.Equal(GuestMemoryError.None, faulty.TryRead(new GuestAddress(0), new byte[1]));
    }

    [Fact]
    public void InterruptSinkRecordsOrderAndWakesWaiters()
    {
        var sink = new RecordingInterruptSink();
        long version = sink.Version;
        var notifier = new Thread(() =>
        {
            sink.NotifyUsedBuffers(1);
            sink.NotifyConfigChange();
        });
        notifier.Start();

        Assert.True(sink.WaitForNotification(version, TimeSpan.FromSeconds(10)));
        Assert.True(notifier.Join(TimeSpan.FromSeconds(10)));
        Assert.Equal(new[] { new InterruptRecord(0, 1), new InterruptRecord(1, -1) }, sink.Records);
        Assert.Equal(1, sink.GetUsedBufferNotificationCount(1));
        Assert.Equal(0, sink.GetUsedBufferNotificationCount(0));
        Assert.Equal(1, sink.ConfigChangeCount);
        Assert.False(sink.WaitForNotification(sink.Version, TimeSpan.FromMilliseconds(1)));
    }
}
