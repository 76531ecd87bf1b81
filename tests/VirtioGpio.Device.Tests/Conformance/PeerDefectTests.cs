// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using VirtioGpio.Device.Virtqueues;
using static VirtioGpio.Device.Tests.Conformance.DeviceRequirementTests;
using static VirtioGpio.Device.Tests.Conformance.DriverDefenceTests;
using static VirtioGpio.Device.Tests.Conformance.GpioHarness;

namespace VirtioGpio.Device.Tests.Conformance;

/// <summary>PEERS.md §2 (rust-vmm vhost-device-gpio defects VDG-*) and the §7 "never" list (N*): regression tests
/// proving this device model does not have them.</summary>
public class PeerDefectTests
{
    [Fact]
    [Trait("Spec", "VDG-1")]
    [Trait("Spec", "N1")]
    public void VDG1_OutOfRangeLinesAreErrOrInvalidAndTheDeviceLives()
    {
        using GpioHarness h = Create(lines: 8);
        foreach (ushort gpio in new ushort[] { 8, 9, 0x7FFF, 0xFFFF })
        {
            foreach (ushort type in new[] { GetDirection, SetDirection, GetValue, SetValue, SetIrqType })
            {
                Err(h.Driver.SendRequest(type, gpio, 1));
            }

            h.Driver.SubmitRawEventBuffers(gpio, new ReadOnlyMemory<byte>[] { IrqRequest(gpio) }, new[] { 1 }, null);
            Invalid(h.TakeIrq(), gpio);
        }

        Assert.False(h.Device.NeedsReset);
        Ok(h.Driver.GetValue(7));
    }

    [Theory]
    [Trait("Spec", "VDG-2")]
    [Trait("Spec", "N2")]
    [Trait("Spec", "N13")]
    [MemberData(nameof(SplitRingTests.Layouts), MemberType = typeof(SplitRingTests))]
    public void VDG2_NoTwoDescriptorAssumption(string layout)
    {
        using GpioHarness h = Create();
        GpioCompletion c = SplitRingTests.SendWithLayout(h, layout, Request(SetDirection, 6, DirIn));
        Assert.Equal(new byte[] { 0, 0 }, c.ResponseBuffer);
        Assert.Equal(2u, c.UsedLength);

        // eventq pairs in odd shapes too: a 2-byte request split 1 + 1, response behind an indirect table.
        Ok(h.Driver.SetIrqType(6, EdgeRising));
        byte[] irq = IrqRequest(6);
        h.Driver.SubmitRawEventBuffers(6, new ReadOnlyMemory<byte>[] { irq.AsMemory(0, 1), irq.AsMemory(1, 1) }, new[] { 1 }, ChainShape.DirectThenIndirect(1));
        h.Lines.SetInputLevel(6, LineValue.High);
        Valid(h.TakeIrq(), 6);
    }

    [Fact]
    [Trait("Spec", "VDG-3")]
    [Trait("Spec", "N3")]
    [Trait("Spec", "N15")]
    public void VDG3_ABadChainBetweenGoodOnesNeverAbortsTheBatch()
    {
        using GpioHarness h = Create(configureDriver: d => d.ShapeOverride = ChainShape.Direct);
        SimulatedVirtioDriver q = h.Driver.RequestQueue;
        SubmittedChain good1 = q.AddChain(new ReadOnlyMemory<byte>[] { Request(SetDirection, 1, DirIn) }, new[] { 2 });

        // A chain whose readable descriptor points outside guest memory: the engine completes it with len 0.
        ushort[] indices = q.AllocateDescriptorIndices(2);
        q.WriteDescriptor(indices[0], 0xFFFF_FFFF_0000UL, 8, DescriptorFlags.Next, indices[1]);
        GuestRange response = q.AllocateBuffer(2, 0xAA);
        q.WriteDescriptor(indices[1], response.Start.Value, 2, DescriptorFlags.Write, 0);
        q.StageAvailEntry(indices[0]);

        // A chain the engine accepts but the device answers ERR (unknown type).
        SubmittedChain bad2 = q.AddChain(new ReadOnlyMemory<byte>[] { Request(0x99, 1, 0) }, new[] { 2 });
        SubmittedChain good2 = q.AddChain(new ReadOnlyMemory<byte>[] { Request(GetDirection, 1, 0) }, new[] { 2 });
        q.Publish();
        h.Device.NotifyQueue(0);

        IReadOnlyList<DriverCompletion> used = q.TakeAllUsed();
        Assert.Equal(4, used.Count);
        Assert.Same(good1, used[0].Chain);
        Assert.Equal(indices[0], (ushort)used[1].Id);
        Assert.Equal(0u, used[1].Length);
        Assert.Same(bad2, used[2].Chain);
        Assert.Equal(new byte[] { 1, 0 }, used[2].Written.ToArray());
        Assert.Same(good2, used[3].Chain);
        Assert.Equal(new byte[] { 0, 2 }, used[3].Written.ToArray()); // good1 ran: line 1 is an input
        Assert.False(h.Device.NeedsReset);
    }

    [Theory]
    [Trait("Spec", "VDG-4")]
    [Trait("Spec", "N4")]
    [InlineData(0, 0u, new byte[0])]
    [InlineData(1, 1u, new byte[] { 1 })]
    [InlineData(2, 2u, new byte[] { 0, 0 })]
    [InlineData(3, 2u, new byte[] { 0, 0, 0xAA })]
    public void VDG4_ResponsesNeverExceedTheWritableBytes(int responseSize, uint expectedLength, byte[] expected)
    {
        using GpioHarness h = Create();
        GpioCompletion c = h.Driver.SendRequest(GetDirection, 0, 0, responseSize);
        Assert.Equal(expectedLength, c.UsedLength);
        Assert.Equal(expected, c.ResponseBuffer);
    }

    [Fact]
    [Trait("Spec", "VDG-4")]
    [Trait("Spec", "N4")]
    public void VDG4_LineNamesFitOrErrInWhatFits()
    {
        using GpioHarness h = Create(configure: o => o.LineNames = new GpioLineNames(new[] { "A", "BC" }));
        uint n = h.Driver.Config.NamesSize;
        Assert.Equal(5u, n);

        GpioCompletion exact = h.Driver.SendRequest(GetLineNames, 0, 0, (int)(1 + n));
        Assert.Equal(6u, exact.UsedLength);
        GpioCompletion larger = h.Driver.SendRequest(GetLineNames, 0, 0, (int)(8 + n));
        Assert.Equal(6u, larger.UsedLength);
        GpioCompletion small = h.Driver.SendRequest(GetLineNames, 0, 0, 3);
        Assert.Equal(3u, small.UsedLength);
        Assert.Equal(new byte[] { 1, 0, 0 }, small.ResponseBuffer);
    }

    [Fact]
    [Trait("Spec", "VDG-5")]
    [Trait("Spec", "N5")]
    public void VDG5_ConfigReadsAreClampedAndWritesIgnored()
    {
        using GpioHarness h = Create(lines: 3);
        byte[] buffer = Enumerable.Repeat((byte)0xCC, 16).ToArray();
        h.Device.ReadConfig(4, buffer);
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, buffer.Take(4).ToArray());
        Assert.All(buffer.Skip(4), b => Assert.Equal(0, b));

        byte[] far = { 0xCC, 0xCC };
        h.Device.ReadConfig(uint.MaxValue, far);
        Assert.Equal(new byte[] { 0, 0 }, far);
        h.Device.ReadConfig(0x1000, far);
        Assert.Equal(new byte[] { 0, 0 }, far);

        h.Device.WriteConfig(0, new byte[] { 9, 9, 9, 9, 9, 9, 9, 9 });
        byte[] config = new byte[8];
        h.Device.ReadConfig(0, config);
        Assert.Equal(new byte[] { 3, 0, 0, 0, 0, 0, 0, 0 }, config);
        Assert.Equal(8, h.Device.ConfigSize);
    }

    [Fact]
    [Trait("Spec", "VDG-6")]
    [Trait("Spec", "N6")]
    public void VDG6_DisableReturnsThePairSynchronouslyBeforeTheReply()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(0, DirIn));
        Ok(h.Driver.SetIrqType(0, LevelHigh));
        h.Driver.ArmIrq(0);

        GpioRequestHandle handle = h.Driver.SubmitRequest(SetIrqType, 0, IrqNone);

        // When the reply is visible the pair is already back: Linux can re-arm right away without a WARN.
        Ok(h.Driver.WaitForCompletion(handle));
        Assert.False(h.Driver.IsIrqArmed(0));
        Invalid(h.TakeIrq(), 0);
        Ok(h.Driver.SetIrqType(0, LevelHigh));
        h.Driver.ArmIrq(0);
        Assert.True(h.Driver.IsIrqArmed(0));
    }

    [Fact]
    [Trait("Spec", "VDG-7")]
    [Trait("Spec", "N7")]
    public void VDG7_SetDirectionNoneForgetsTheIrqTypeSoTheSameTypeCanBeEnabledAgain()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(1, DirIn));
        Ok(h.Driver.SetIrqType(1, EdgeFalling));
        Ok(h.Driver.SetDirection(1, DirNone));
        Assert.Equal(GpioIrqType.None, h.Device.GetLineState(1).IrqType);
        Assert.Equal(GpioIrqType.None, h.Lines.GetIrqType(1));
        Ok(h.Driver.SetDirection(1, DirIn));
        Ok(h.Driver.SetIrqType(1, EdgeFalling));
        Err(h.Driver.SetIrqType(1, LevelHigh)); // a different type while enabled: R8 default
    }

    [Fact]
    [Trait("Spec", "VDG-8")]
    [Trait("Spec", "N8")]
    public void VDG8_NothingIsWrittenOrSignalledWhileTheEventqIsStopped()
    {
        using GpioHarness h = Create(record: true);
        Ok(h.Driver.SetDirection(2, DirIn));
        Ok(h.Driver.SetIrqType(2, EdgeRising));
        Ok(h.Driver.SetDirection(3, DirIn));
        Ok(h.Driver.SetIrqType(3, EdgeRising));
        h.Driver.ArmIrq(2);
        h.Driver.ArmIrq(3);

        Assert.Equal(VirtqueueError.None, h.Device.SetQueueReady(1, false)); // GET_VRING_BASE on the eventq
        h.Recording!.Clear();
        long version = h.Driver.Interrupts.Version;

        h.Lines.SetInputLevel(2, LineValue.High); // edge: latched instead of completed
        Ok(h.Driver.SetIrqType(3, IrqNone));     // D12 return is due but must wait

        GuestRange eventArea = new(h.Driver.EventQueue!.Layout.DescriptorTable, h.Driver.EventQueue.Layout.EndExclusive - h.Driver.EventQueue.Layout.DescriptorTable.Value);
        h.Recording.AssertNoAccessOverlapping(GuestMemoryAccess.Read | GuestMemoryAccess.Write, eventArea);
        h.Recording.AssertNoAccessOverlapping(GuestMemoryAccess.Write, h.Driver.EventQueue.GetDeviceWritableRanges());
        Assert.Equal(0, h.Driver.Interrupts.Records.Count(r => r.QueueIndex == 1 && r.Sequence > version));
        Assert.Null(h.TakeIrq());

        // Restart: the due INVALID and the latched edge are delivered.
        Assert.Equal(VirtqueueError.None, h.Device.SetQueueReady(1, true));
        List<GpioIrqCompletion> irqs = h.TakeAllIrqs();
        Assert.Equal(2, irqs.Count);
        Valid(irqs.Single(c => c.Line == 2), 2);
        Invalid(irqs.Single(c => c.Line == 3), 3);
    }

    [Theory]
    [Trait("Spec", "VDG-9")]
    [Trait("Spec", "N9")]
    [InlineData(false)]
    [InlineData(true)]
    public void VDG9_RejectedSetIrqTypeThen1000RequeuesAreNot1000Completions(bool strict)
    {
        using GpioHarness h = Create(configure: o => o.StrictUnarmedEventPairs = strict);
        Ok(h.Driver.DirectionOutput(4, 0));
        Err(h.Driver.SetIrqType(4, LevelHigh)); // R6: rejected; Linux ignores the result and queues the pair anyway

        int completions = 0;
        h.Driver.ArmIrq(4);
        for (int i = 0; i < 1000; i++)
        {
            if (h.TakeIrq() is GpioIrqCompletion c)
            {
                Invalid(c, 4);
                completions++;
                h.Driver.ArmIrq(4); // Linux: INVALID on a line neither masked nor disabled → requeue at once
            }
        }

        Assert.NotEqual(1000, completions);
        Assert.True(completions <= (strict ? 4 : 0), $"{completions} INVALID returns");
        Assert.True(h.Device.GetLineState(4).IsInterruptArmed); // the pair is now held

        // All six types are accepted on an input line (the root cause in the Rust back-end was rejecting LEVEL_*).
        foreach (uint type in new[] { EdgeRising, EdgeFalling, EdgeBoth, LevelHigh, LevelLow })
        {
            Ok(h.Driver.SetDirection(5, DirIn));
            Ok(h.Driver.SetIrqType(5, type));
            Ok(h.Driver.SetIrqType(5, IrqNone));
        }
    }

    [Fact]
    [Trait("Spec", "VDG-9")]
    public void VDG9_StrictRateLimitRefillsAfterTheInterval()
    {
        using GpioHarness h = Create(configure: o => { o.StrictUnarmedEventPairs = true; o.StrictInvalidReturnBurst = 2; });
        Ok(h.Driver.SetDirection(0, DirIn));
        h.Driver.ArmIrq(0);
        Invalid(h.TakeIrq(), 0);
        h.Driver.ArmIrq(0);
        Invalid(h.TakeIrq(), 0);
        h.Driver.ArmIrq(0);
        Assert.Null(h.TakeIrq()); // over budget: held

        Ok(h.Driver.SetIrqType(0, IrqNone)); // returns the held pair INVALID (D12)
        Invalid(h.TakeIrq(), 0);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Driver.ArmIrq(0);
        Invalid(h.TakeIrq(), 0);
    }

    [Fact]
    [Trait("Spec", "VDG-10")]
    public void VDG10_NotStricterThanTheSpec()
    {
        using GpioHarness h = Create();
        Assert.Equal(0, Ok(h.Driver.GetValue(2)).Value);       // never set: reads low
        Ok(h.Driver.SetDirection(2, DirOut));                    // OUT without SET_VALUE: drives low
        Assert.Equal(LineValue.Low, h.Lines.GetLevel(2));
        Assert.Equal(0, Ok(h.Driver.GetValue(2)).Value);
        Ok(h.Driver.SetDirection(3, DirIn));
        Ok(h.Driver.SetIrqType(3, EdgeBoth));
        Ok(h.Driver.SetIrqType(3, EdgeBoth));                    // same type again: OK
    }

    [Theory]
    [Trait("Spec", "VDG-11")]
    [InlineData(5u)]
    [InlineData(6u)]
    [InlineData(7u)]
    [InlineData(9u)]
    [InlineData(0x0Cu)]
    [InlineData(0x0Fu)]
    [InlineData(0x10u)]
    [InlineData(0x101u)]
    [InlineData(0xFFFF_FFFFu)]
    public void VDG11_IrqTypesOutsideTheExactSetAreErr(uint type)
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(0, DirIn));
        Err(h.Driver.SetIrqType(0, type));
        Assert.Equal(GpioIrqType.None, h.Device.GetLineState(0).IrqType);
    }

    [Theory]
    [Trait("Spec", "VDG-11")]
    [InlineData(3u)]
    [InlineData(0x101u)]
    [InlineData(0x102u)]
    [InlineData(0x1_0000u)]
    public void VDG11_DirectionsOutsideTheExactSetAreErrNeverTruncated(uint direction)
    {
        using GpioHarness h = Create();
        Err(h.Driver.SetDirection(0, direction));
        Assert.Equal(GpioDirection.None, h.Device.GetLineState(0).Direction);
        Err(h.Driver.SetValue(0, direction == 3 ? 2 : direction));
    }

    [Fact]
    [Trait("Spec", "VDG-12")]
    public void VDG12_ArmedPairsWaitForRealStimulusNoIrqStorm()
    {
        using GpioHarness h = Create();
        for (ushort line = 0; line < 8; line++)
        {
            Ok(h.Driver.SetDirection(line, DirIn));
            Ok(h.Driver.SetIrqType(line, EdgeBoth));
            h.Driver.ArmIrq(line);
        }

        Assert.Empty(h.TakeAllIrqs());
        Assert.Equal(8, h.Driver.ArmedIrqCount);
        h.Lines.Pulse(3);
        Valid(h.TakeIrq(), 3);
        Assert.Null(h.TakeIrq());
        Assert.True(h.Device.GetLineState(3).IsEdgeLatched); // the second edge of the pulse, latched while masked
    }

    [Theory]
    [Trait("Spec", "VDG-13")]
    [Trait("Spec", "N10")]
    [InlineData(1024)]
    [InlineData(32768)]
    public void VDG13_LargeRingsAreAccepted(int size)
    {
        using GpioHarness h = Create(
            configure: o => { o.RequestQueueMaxSize = size; o.EventQueueMaxSize = size; },
            configureDriver: d => { d.QueueSize = size; d.BufferAreaSize = 4 << 20; });
        Assert.Equal(size, h.Device.GetQueue(0).Size);
        Assert.Equal(size, h.Device.GetQueue(1).Size);
        Ok(h.Driver.GetValue(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VirtioGpioDevice(new VirtioGpioDeviceOptions { LineCount = 1, RequestQueueMaxSize = 65536 }));
    }

    [Fact]
    [Trait("Spec", "N14")]
    public void N14_ARingThatOnlyStartsInsideMemoryIsRefusedAtEnable()
    {
        using var device = new VirtioGpioDevice(new VirtioGpioDeviceOptions { LineCount = 2 });
        var memory = new TestGuestMemory(0x2400); // the used ring (0x2000 + 2054 bytes) runs past the end
        SplitQueue queue = device.GetQueue(0);
        Assert.True(device.TryAcceptFeatures(VirtioFeatures.Version1));
        Assert.True(queue.TrySetSize(256));
        Assert.True(queue.TrySetAddresses(new GuestAddress(0), new GuestAddress(0x1000), new GuestAddress(0x2000)));
        device.Activate(memory.RegionMemory, new RecordingInterruptSink());

        Assert.Equal(VirtqueueError.RingMemoryUnavailable, device.SetQueueReady(0, true));
        Assert.False(queue.IsReady);
        device.NotifyQueue(0); // nothing happens, nothing throws
    }

    [Fact]
    [Trait("Spec", "VDG-14")]
    [Trait("Spec", "N11")]
    public void VDG14_AKickBeforeEnableIsNotLost()
    {
        using GpioHarness h = Create(initialize: false);
        var memory = new TestGuestMemory(1 << 20);
        var sink = new RecordingInterruptSink();
        var q = new SimulatedVirtioDriver(memory, 64) { IndirectDescriptorsEnabled = true };
        Assert.True(h.Device.TryAcceptFeatures(VirtioFeatures.Version1 | VirtioFeatures.RingIndirectDesc));
        Assert.Equal(VirtqueueError.None, q.ConfigureDeviceQueue(h.Device.GetQueue(0), memory.RegionMemory, activate: false));

        SubmittedChain chain = q.AddChain(new ReadOnlyMemory<byte>[] { Request(GetDirection, 0, 0) }, new[] { 2 }, ChainShape.Indirect);
        q.Publish();
        h.Device.NotifyQueue(0); // before DRIVER_OK: ignored, not processed
        Assert.Equal(0, q.ReadUsedIndex());
        Assert.Equal(VirtqueueError.QueueNotReady, h.Device.SetQueueReady(0, true)); // not activated yet

        h.Device.Activate(memory.RegionMemory, sink);
        h.Device.NotifyQueue(0); // kick while the queue is not enabled: ignored
        Assert.Equal(0, q.ReadUsedIndex());
        Assert.Equal(VirtqueueError.None, h.Device.SetQueueReady(0, true)); // enabling scans the ring

        DriverCompletion used = Assert.Single(q.TakeAllUsed());
        Assert.Same(chain, used.Chain);
        Assert.Equal(new byte[] { 0, 0 }, used.Written.ToArray());
        Assert.True(sink.GetUsedBufferNotificationCount(0) > 0);
    }

    [Fact]
    [Trait("Spec", "VDG-15")]
    [Trait("Spec", "N12")]
    public void VDG15_ACorruptRingSetsNeedsResetWithoutThrowing()
    {
        using GpioHarness h = Create();
        SimulatedVirtioDriver q = h.Driver.RequestQueue;
        q.WriteAvailIndex(unchecked((ushort)(q.AvailIndex + 1000))); // more than the queue size ahead (GV3)

        h.Device.NotifyQueue(0);

        Assert.True(h.Device.NeedsReset);
        Assert.Equal(1, h.Driver.Interrupts.ConfigChangeCount);
        h.Device.NotifyQueue(0); // still no exception, no second config interrupt
        Assert.Equal(1, h.Driver.Interrupts.ConfigChangeCount);

        // The eventq keeps working; a device reset recovers everything.
        h.Driver.ResetDevice();
        Assert.False(h.Device.NeedsReset);
        h.Driver.Initialize();
        Ok(h.Driver.GetValue(0));
    }
}
