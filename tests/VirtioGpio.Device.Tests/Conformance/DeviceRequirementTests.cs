// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Testing;
using static VirtioGpio.Device.Tests.Conformance.GpioHarness;

namespace VirtioGpio.Device.Tests.Conformance;

/// <summary>STANDARD.md §7.1: the device-normative requirements D1–D12, driven through the engine like Linux.</summary>
public class DeviceRequirementTests
{
    internal static byte[] Request(ushort type, ushort gpio, uint value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, type);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), gpio);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), value);
        return bytes;
    }

    [Fact]
    [Trait("Spec", "D1")]
    public void D1_EveryResponseFieldIsSetOnOkAndOnErr()
    {
        using GpioHarness h = Create();

        // The driver pre-fills every response buffer with 0xAA.
        Assert.Equal((byte?)0xAA, h.Driver.Options.ResponseFillByte);
        GpioCompletion ok = Ok(h.Driver.GetValue(3));
        Assert.Equal(new byte[] { 0x00, 0x00 }, ok.ResponseBuffer);

        GpioCompletion okDirection = Ok(h.Driver.SetDirection(3, DirOut));
        Assert.Equal(new byte[] { 0x00, 0x00 }, okDirection.ResponseBuffer);

        GpioCompletion err = Err(h.Driver.SetDirection(3, 7));
        Assert.Equal(new byte[] { 0x01, 0x00 }, err.ResponseBuffer);

        GpioCompletion errRange = Err(h.Driver.GetValue(200));
        Assert.Equal(new byte[] { 0x01, 0x00 }, errRange.ResponseBuffer);
    }

    [Fact]
    [Trait("Spec", "D1")]
    public void D1_FailedGetLineNamesZeroesAllNBytes()
    {
        using GpioHarness h = Create(configure: o => o.LineNames = new GpioLineNames(new[] { "A", "B" }));

        // A response buffer one byte short of 1 + N: ERR, then zeros in every byte written.
        GpioCompletion c = h.Driver.SendRequest(GetLineNames, 0, 0, (int)h.Driver.Config.NamesSize);
        Assert.Equal(h.Driver.Config.NamesSize, c.UsedLength);
        Assert.Equal(1, c.ResponseBuffer[0]);
        Assert.All(c.ResponseBuffer.Skip(1), b => Assert.Equal(0, b));
    }

    [Fact]
    [Trait("Spec", "D2")]
    public void D2_ConfigGivesNgpioZeroPaddingAndNamesSize()
    {
        using GpioHarness h = Create(configure: o => o.LineNames = new GpioLineNames(new[] { "MMC-CD", string.Empty, "LED" }));

        // The driver read the config with eight 1-byte reads, like Linux.
        Assert.Equal(3, h.Driver.Config.LineCount);
        Assert.Equal(0, h.Driver.Config.Padding);
        Assert.Equal(7u + 1u + 4u, h.Driver.Config.NamesSize);

        Span<byte> whole = stackalloc byte[8];
        h.Device.ReadConfig(0, whole);
        Assert.Equal(new byte[] { 3, 0, 0, 0, 12, 0, 0, 0 }, whole.ToArray());

        // Aligned 2- and 4-byte reads agree.
        Span<byte> two = stackalloc byte[2];
        h.Device.ReadConfig(0, two);
        Assert.Equal(3, BinaryPrimitives.ReadUInt16LittleEndian(two));
        Span<byte> four = stackalloc byte[4];
        h.Device.ReadConfig(4, four);
        Assert.Equal(12u, BinaryPrimitives.ReadUInt32LittleEndian(four));
        Assert.Equal(0u, h.Device.ConfigGeneration);
    }

    [Fact]
    [Trait("Spec", "D3")]
    public void D3_NoNamesMeansSizeZeroAndGetLineNamesErr()
    {
        using GpioHarness h = Create(lines: 4);
        Assert.Equal(0u, h.Driver.Config.NamesSize);

        GpioCompletion c = h.Driver.SendRequest(GetLineNames, 0, 0, 2);
        Err(c);

        // Linux-sized buffer (1 + N with N = 0): one byte, ERR.
        GpioCompletion one = h.Driver.SendRequest(GetLineNames, 0, 0, 1);
        Assert.Equal(1u, one.UsedLength);
        Assert.Equal(1, one.Status);
    }

    [Fact]
    [Trait("Spec", "D4")]
    public void D4_NamesBlockMatchesTheSpecExample()
    {
        string[] names = { "MMC-CD", string.Empty, string.Empty, string.Empty, string.Empty, "Red LED Vdd", string.Empty, "Ethernet reset", string.Empty, string.Empty };
        using GpioHarness h = Create(configure: o => o.LineNames = new GpioLineNames(names));
        Assert.Equal(41u, h.Driver.Config.NamesSize);

        GpioCompletion c = h.Driver.GetLineNames();
        Assert.Equal(42u, c.UsedLength);
        Assert.Equal(0, c.Status);
        byte[] expected = names.SelectMany(n => System.Text.Encoding.ASCII.GetBytes(n).Append((byte)0)).ToArray();
        Assert.Equal(expected, c.Payload.ToArray());
        Assert.Equal(10, c.Payload.ToArray().Count(b => b == 0));
    }

    [Fact]
    [Trait("Spec", "D5")]
    public void D5_MessagesForTheSameLineCompleteInAvailOrder()
    {
        using GpioHarness h = Create();
        SimulatedVirtioDriver q = h.Driver.RequestQueue;

        // Three messages for line 3 in one kick: SET_VALUE 1, SET_DIRECTION OUT, GET_VALUE.
        SubmittedChain a = q.AddChain(new ReadOnlyMemory<byte>[] { Request(SetValue, 3, 1) }, new[] { 2 }, ChainShape.Indirect);
        SubmittedChain b = q.AddChain(new ReadOnlyMemory<byte>[] { Request(SetDirection, 3, DirOut) }, new[] { 2 }, ChainShape.Indirect);
        SubmittedChain c = q.AddChain(new ReadOnlyMemory<byte>[] { Request(GetValue, 3, 0) }, new[] { 2 }, ChainShape.Indirect);
        q.Publish();
        h.Device.NotifyQueue(0);

        IReadOnlyList<DriverCompletion> used = q.TakeAllUsed();
        Assert.Equal(new[] { a, b, c }, used.Select(u => u.Chain));
        Assert.All(used, u => Assert.Equal(2u, u.Length));
        Assert.Equal(new byte[] { 0, 1 }, used[2].Written.ToArray()); // processed sequentially: sees the earlier two
    }

    [Fact]
    [Trait("Spec", "D6")]
    public void D6_DifferentLinesAreAnsweredInAvailOrderToo()
    {
        // D6 allows out-of-order replies for different lines; this device completes the requestq in avail order,
        // which keeps the vhost-user reconnect rewind exact (VHOST-USER.md §9).
        using GpioHarness h = Create();
        SimulatedVirtioDriver q = h.Driver.RequestQueue;
        var chains = new List<SubmittedChain>();
        foreach (ushort line in new ushort[] { 7, 1, 4, 0 })
        {
            chains.Add(q.AddChain(new ReadOnlyMemory<byte>[] { Request(GetDirection, line, 0) }, new[] { 2 }, ChainShape.Indirect));
        }

        q.Publish();
        h.Device.NotifyQueue(0);
        Assert.Equal(chains, q.TakeAllUsed().Select(u => u.Chain));
    }

    [Fact]
    [Trait("Spec", "D7")]
    public void D7_SetDirectionNoneDiscardsAllLineState()
    {
        using GpioHarness h = Create();

        // Direction, remembered value, IRQ type and a latched edge.
        Ok(h.Driver.SetDirection(2, DirIn));
        Ok(h.Driver.SetValue(2, 1));
        Ok(h.Driver.SetIrqType(2, EdgeRising));
        h.Lines.SetInputLevel(2, LineValue.High); // no pair: latched
        Assert.True(h.Device.GetLineState(2).IsEdgeLatched);

        Ok(h.Driver.SetDirection(2, DirNone));

        Assert.Equal(0, Ok(h.Driver.GetDirection(2)).Value);
        Assert.Equal(new GpioLineState(2, GpioDirection.None, LineValue.Low, GpioIrqType.None, false, false), h.Device.GetLineState(2));

        // A held pair is returned INVALID (as for D12).
        Ok(h.Driver.SetDirection(2, DirIn));
        Ok(h.Driver.SetIrqType(2, EdgeRising)); // VDG-7: the old type is gone, so this is a fresh enable, not ERR
        h.Driver.ArmIrq(2);
        Assert.Null(h.TakeIrq());
        Assert.True(h.Device.GetLineState(2).IsInterruptArmed);

        Ok(h.Driver.SetDirection(2, DirNone));

        Invalid(h.TakeIrq(), 2);
        Assert.False(h.Device.GetLineState(2).IsInterruptArmed);

        // The remembered output value is gone too: OUT now drives low.
        Ok(h.Driver.SetDirection(2, DirOut));
        Assert.Equal(LineValue.Low, h.Lines.GetLevel(2));
    }

    [Fact]
    [Trait("Spec", "D8")]
    public void D8_EdgeIsLatchedWhileMaskedAndReportedAtUnmask()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(5, DirIn));
        Ok(h.Driver.SetIrqType(5, EdgeRising));
        h.Lines.SetInputLevel(5, LineValue.High); // no pair: masked
        Assert.Null(h.TakeIrq());

        h.Driver.ArmIrq(5);
        Valid(h.TakeIrq(), 5);
        Assert.False(h.Device.GetLineState(5).IsEdgeLatched);
    }

    [Fact]
    [Trait("Spec", "D9")]
    public void D9_LevelIsNotLatchedWhileMasked()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(5, DirIn));
        Ok(h.Driver.SetIrqType(5, LevelHigh));
        h.Lines.SetInputLevel(5, LineValue.High);
        h.Lines.SetInputLevel(5, LineValue.Low);

        h.Driver.ArmIrq(5);
        Assert.Null(h.TakeIrq());
        Assert.True(h.Device.GetLineState(5).IsInterruptArmed);
    }

    [Fact]
    [Trait("Spec", "D10")]
    public void D10_DisablingDiscardsTheLatchedEdge()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(1, DirIn));
        Ok(h.Driver.SetIrqType(1, EdgeBoth));
        h.Lines.Toggle(1);
        Assert.True(h.Device.GetLineState(1).IsEdgeLatched);

        Ok(h.Driver.SetIrqType(1, IrqNone));
        Ok(h.Driver.SetIrqType(1, EdgeBoth));
        h.Driver.ArmIrq(1);

        Assert.Null(h.TakeIrq());
        Assert.True(h.Device.GetLineState(1).IsInterruptArmed);
    }

    [Fact]
    [Trait("Spec", "D11")]
    public void D11_NoEventUnlessEnabledAndUnmasked()
    {
        using GpioHarness h = Create();
        Ok(h.Driver.SetDirection(4, DirIn));
        h.Driver.ArmIrq(4); // unmasked, not enabled: held (default policy)
        h.Lines.Pulse(4);
        h.Lines.Toggle(4);
        Assert.Null(h.TakeIrq());

        // Enabled but masked: nothing either (edges latch).
        using GpioHarness h2 = Create();
        Ok(h2.Driver.SetDirection(4, DirIn));
        Ok(h2.Driver.SetIrqType(4, EdgeBoth));
        h2.Lines.Pulse(4);
        Assert.Null(h2.TakeIrq());
    }

    [Fact]
    [Trait("Spec", "D12")]
    public void D12_DisableReturnsTheHeldPairInvalidBeforeTheReply()
    {
        using GpioHarness h = Create(record: true);
        Ok(h.Driver.SetDirection(6, DirIn));
        Ok(h.Driver.SetIrqType(6, EdgeFalling));
        h.Driver.ArmIrq(6);
        Assert.Null(h.TakeIrq());
        h.Recording!.Clear();
        h.Driver.Interrupts.Clear();

        Ok(h.Driver.SetIrqType(6, IrqNone));

        Invalid(h.TakeIrq(), 6);

        // The eventq used.idx store precedes the requestq used.idx store (§6.1), and so does its notification.
        GpioMemoryOrder order = GpioMemoryOrder.Of(h);
        Assert.True(order.EventUsedIdxStore >= 0, "eventq used.idx was published");
        Assert.True(order.RequestUsedIdxStore > order.EventUsedIdxStore, "eventq completion is published before the requestq reply");
        IReadOnlyList<InterruptRecord> irqs = h.Driver.Interrupts.Records;
        int eventNotify = irqs.ToList().FindIndex(r => r.QueueIndex == 1);
        int requestNotify = irqs.ToList().FindIndex(r => r.QueueIndex == 0);
        Assert.True(eventNotify >= 0);
        Assert.True(requestNotify < 0 || eventNotify < requestNotify);

        // NONE while already NONE: still OK, nothing held, nothing returned.
        Ok(h.Driver.SetIrqType(6, IrqNone));
        Assert.Null(h.TakeIrq());
    }
}

/// <summary>Where the device stored the two used indices in a recorded run.</summary>
internal readonly struct GpioMemoryOrder
{
    public int EventUsedIdxStore { get; init; }

    public int RequestUsedIdxStore { get; init; }

    public static GpioMemoryOrder Of(GpioHarness h)
    {
        IReadOnlyList<GuestMemoryAccessRecord> records = h.Recording!.Records;
        int last(GuestAddress address)
        {
            for (int i = records.Count - 1; i >= 0; i--)
            {
                if (records[i].Operation == GuestMemoryOperation.StoreReleaseUInt16 && records[i].Address == address)
                {
                    return i;
                }
            }

            return -1;
        }

        int first(GuestAddress address)
        {
            for (int i = 0; i < records.Count; i++)
            {
                if (records[i].Operation == GuestMemoryOperation.StoreReleaseUInt16 && records[i].Address == address)
                {
                    return i;
                }
            }

            return -1;
        }

        return new GpioMemoryOrder
        {
            EventUsedIdxStore = first(h.Driver.EventQueue!.Layout.UsedIndexAddress),
            RequestUsedIdxStore = last(h.Driver.RequestQueue.Layout.UsedIndexAddress),
        };
    }
}
