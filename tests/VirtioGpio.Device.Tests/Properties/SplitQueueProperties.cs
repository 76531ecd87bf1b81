// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Globalization;
using CsCheck;
using VirtioGpio.Device.Memory;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Properties;

/// <summary>
/// Hostile-guest properties of the split-queue engine (CsCheck). Each sample is a seed; the scenario
/// (memory map, descriptor table, indirect tables, avail ring, indices, features) is built from it
/// deterministically, so a failure message names a seed that reproduces it.
/// Iterations: <c>VIRTIOGPIO_PROPERTY_ITERATIONS</c> (default 300).
/// </summary>
public class SplitQueueProperties
{
    private const ulong DescriptorTable = 0x0;
    private const ulong AvailRing = 0x1000;
    private const ulong UsedRing = 0x2000;
    private const ulong DataStart = 0x3000;
    private const ulong RamLength = 0x10000;
    private const ulong AdjacentStart = 0x10000;
    private const ulong AdjacentLength = 0x4000;
    private const ulong DistantStart = 0x20000;
    private const ulong DistantLength = 0x1000;

    private static readonly long Iterations = ReadIterations();

    [Fact]
    [Trait("Category", "Property")]
    public void HostileRings_NeverThrow_StayInsideMemory_AreBounded_AndCompleteEachPopAtMostOnce()
        => Gen.ULong.Sample(seed => RunHostileScenario(seed), iter: Iterations, threads: 1);

    [Fact]
    [Trait("Category", "Property")]
    public void FastAndGenericMemoryPaths_BehaveIdentically()
        => Gen.ULong.Sample(seed => RunDifferential(seed), iter: Iterations, threads: 1);

    [Fact]
    [Trait("Category", "Property")]
    public void RequestPairs_TheStraightLineWalkMatchesTheGenericWalk()
    {
        // The engine walks "one readable buffer, then one writable buffer" straight-line (SplitQueue.TryWalkRequestPair)
        // and falls back to its loop on any doubt. The hostile generator rarely builds such pairs, so these scenarios are
        // all pairs, each perturbed at one edge: flags with extra bits, next at or past the table, next == head, buffers at
        // a region end, in another region, read-only, in a gap or wrapping, zero and huge lengths.
        int pairs = 0;
        Gen.ULong.Sample(seed => pairs += RunDifferential(BuildPairs(seed), seed), iter: Iterations, threads: 1);
        Assert.True(pairs > Iterations, $"only {pairs} well-formed pairs popped in {Iterations} scenarios");
    }

    [Fact]
    [Trait("Category", "Property")]
    public void ValidChains_AreUnaffectedByInvalidNeighbours()
        => Gen.ULong.Sample(seed => RunNeighbours(seed), iter: Iterations, threads: 1);

    [Fact]
    [Trait("Category", "Property")]
    public void HostileGenerator_ReachesValidChainsEveryChainErrorAndBrokenRings()
    {
        // Guards the generator itself: a generator that only ever produced one outcome would make
        // the properties above pass vacuously.
        var outcomes = new HashSet<string>();
        int validChains = 0;
        for (ulong seed = 0; seed < 3000; seed++)
        {
            Scenario scenario = BuildHostile(seed);
            SplitQueue queue = scenario.CreateQueue(scenario.CreateMemory());
            queue.InvalidChainCallback = (_, reason) => outcomes.Add(reason.ToString());
            for (int pop = 0; pop < scenario.Size + 2; pop++)
            {
                if (!queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error))
                {
                    outcomes.Add(error.ToString());
                    break;
                }

                validChains++;
                if ((seed & 1) == 0)
                {
                    queue.AddUsed(chain.HeadIndex, 0); // odd seeds keep chains to provoke HeadAlreadyInFlight
                }
            }
        }

        Assert.True(validChains > 100, $"only {validChains} valid chains");
        string[] expected =
        {
            "None", "AvailIndexOutOfRange", "InvalidHeadIndex", "AddressOverflow", "GuestMemoryUnavailable", "InvalidDescriptorIndex",
            "ChainTooLong", "NestedIndirectTable", "InvalidIndirectTableLength", "IndirectWithNext", "IndirectNotNegotiated",
            "ChainLengthOverflow", "ReadableAfterWritable", "HeadAlreadyInFlight",
        };
        Assert.Empty(expected.Except(outcomes));
    }

    private static long ReadIterations()
    {
        string? value = Environment.GetEnvironmentVariable("VIRTIOGPIO_PROPERTY_ITERATIONS");
        return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed) && parsed > 0 ? parsed : 300;
    }

    // ----- scenario ---------------------------------------------------------------------------

    private sealed class Scenario
    {
        public required int Size { get; init; }

        public required byte[] Ram { get; init; }

        public required byte[] Adjacent { get; init; }

        public required byte[] Distant { get; init; }

        public required GuestMemoryAccess AdjacentAccess { get; init; }

        public required GuestMemoryAccess DistantAccess { get; init; }

        public required bool Indirect { get; init; }

        public required bool EventIdx { get; init; }

        public required ushort NextAvail { get; init; }

        public required ushort NextUsed { get; init; }

        public RegionGuestMemory CreateMemory() => new(new[]
        {
            new GuestMemoryRegion(new GuestAddress(0), Ram),
            new GuestMemoryRegion(new GuestAddress(AdjacentStart), Adjacent, AdjacentAccess),
            new GuestMemoryRegion(new GuestAddress(DistantStart), Distant, DistantAccess),
        });

        public IEnumerable<(ulong, ulong, GuestMemoryAccess)> RegionList => new[]
        {
            (0UL, RamLength, GuestMemoryAccess.ReadWrite),
            (AdjacentStart, AdjacentLength, AdjacentAccess),
            (DistantStart, DistantLength, DistantAccess),
        };

        public Scenario Clone() => new()
        {
            Size = Size,
            Ram = (byte[])Ram.Clone(),
            Adjacent = (byte[])Adjacent.Clone(),
            Distant = (byte[])Distant.Clone(),
            AdjacentAccess = AdjacentAccess,
            DistantAccess = DistantAccess,
            Indirect = Indirect,
            EventIdx = EventIdx,
            NextAvail = NextAvail,
            NextUsed = NextUsed,
        };

        public SplitQueue CreateQueue(IGuestMemory memory)
        {
            var queue = new SplitQueue(Size) { Memory = memory, IndirectDescriptorsEnabled = Indirect, EventIdxEnabled = EventIdx };
            Assert.True(queue.TrySetState(new SplitQueueState((ushort)Size, new GuestAddress(DescriptorTable), new GuestAddress(AvailRing), new GuestAddress(UsedRing), NextAvail, NextUsed)));
            Assert.Equal(VirtqueueError.None, queue.TryActivate());
            return queue;
        }
    }

    private static Scenario BuildHostile(ulong seed)
    {
        var random = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
        int size = 1 << random.Next(0, 6);
        var scenario = new Scenario
        {
            Size = size,
            Ram = new byte[RamLength],
            Adjacent = new byte[AdjacentLength],
            Distant = new byte[DistantLength],
            AdjacentAccess = random.Next(3) == 0 ? GuestMemoryAccess.Read : GuestMemoryAccess.ReadWrite,
            DistantAccess = random.Next(2) == 0 ? GuestMemoryAccess.Read : GuestMemoryAccess.ReadWrite,
            Indirect = random.Next(4) != 0,
            EventIdx = random.Next(2) == 0,
            NextAvail = random.Next(4) == 0 ? (ushort)random.Next(65536) : (ushort)random.Next(4),
            NextUsed = (ushort)random.Next(65536),
        };

        // Some indirect tables in the data area, full of hostile descriptors too.
        var tables = new List<(ulong Address, int Entries)>();
        for (int t = 0; t < 4; t++)
        {
            int entries = 1 + random.Next(Math.Max(1, size + 1));
            ulong address = DataStart + (ulong)(t * 0x400) + (random.Next(4) == 0 ? (ulong)random.Next(16) : 0);
            tables.Add((address, entries));
        }

        foreach ((ulong address, int entries) in tables)
        {
            for (int i = 0; i < entries; i++)
            {
                WriteHostileDescriptor(scenario.Ram, address + (ulong)(16 * i), random, entries, tables);
            }
        }

        for (int i = 0; i < size; i++)
        {
            WriteHostileDescriptor(scenario.Ram, DescriptorTable + (ulong)(16 * i), random, size, tables);
        }

        // Avail ring: flags, idx (mostly a sane distance ahead, sometimes garbage), heads, used_event.
        Span<byte> avail = scenario.Ram.AsSpan((int)AvailRing);
        BinaryPrimitives.WriteUInt16LittleEndian(avail, (ushort)random.Next(3));
        int ahead = random.Next(8) == 0 ? random.Next(65536) : random.Next(size + 1);
        BinaryPrimitives.WriteUInt16LittleEndian(avail.Slice(2), unchecked((ushort)(scenario.NextAvail + ahead)));
        for (int i = 0; i < size; i++)
        {
            ushort head = random.Next(16) == 0 ? (ushort)random.Next(65536) : (ushort)random.Next(size);
            BinaryPrimitives.WriteUInt16LittleEndian(avail.Slice(4 + (2 * i)), head);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(avail.Slice(4 + (2 * size)), (ushort)random.Next(65536));

        // Garbage in the other regions so stitched reads see data.
        random.NextBytes(scenario.Adjacent);
        random.NextBytes(scenario.Distant);
        return scenario;
    }

    private static Scenario BuildPairs(ulong seed)
    {
        var random = new Random(unchecked((int)seed ^ (int)(seed >> 32) ^ 0x5A17));
        int size = 1 << random.Next(0, 7);
        var scenario = new Scenario
        {
            Size = size,
            Ram = new byte[RamLength],
            Adjacent = new byte[AdjacentLength],
            Distant = new byte[DistantLength],
            AdjacentAccess = random.Next(2) == 0 ? GuestMemoryAccess.Read : GuestMemoryAccess.ReadWrite,
            DistantAccess = GuestMemoryAccess.Read,
            Indirect = random.Next(2) == 0,
            EventIdx = false,
            NextAvail = (ushort)random.Next(65536),
            NextUsed = 0,
        };

        // Pairs (2i, 2i + 1) as Linux builds them, mostly well-formed, each descriptor field perturbed now and then.
        for (int head = 0; head < size; head += 2)
        {
            int second = head + 1 < size ? head + 1 : 0;
            ushort next = random.Next(12) switch
            {
                0 => (ushort)size,                      // one past the table
                1 => (ushort)head,                      // a loop onto itself
                2 => (ushort)random.Next(65536),
                _ => (ushort)second,
            };
            WriteDescriptor(scenario.Ram, DescriptorTable, head, PairAddress(random, 0x3000 + (ulong)(0x40 * head)), PairLength(random, 8), PairFlags(random, DescriptorFlags.Next), next);
            if (head + 1 < size)
            {
                WriteDescriptor(scenario.Ram, DescriptorTable, head + 1, PairAddress(random, 0x3020 + (ulong)(0x40 * head)), PairLength(random, 2), PairFlags(random, DescriptorFlags.Write), (ushort)random.Next(size + 1));
            }
        }

        // Avail ring: the pair heads (sometimes an odd one: the second half of a pair), all published.
        Span<byte> avail = scenario.Ram.AsSpan((int)AvailRing);
        int count = Math.Max(1, size / 2);
        for (int i = 0; i < count; i++)
        {
            int head = random.Next(10) == 0 ? random.Next(size) : (2 * i) % size;
            BinaryPrimitives.WriteUInt16LittleEndian(avail.Slice(4 + (2 * ((scenario.NextAvail + i) % size))), (ushort)head);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(avail.Slice(2), unchecked((ushort)(scenario.NextAvail + count)));
        random.NextBytes(scenario.Adjacent);
        random.NextBytes(scenario.Distant);
        return scenario;

        static DescriptorFlags PairFlags(Random random, DescriptorFlags flags) => random.Next(10) switch
        {
            0 => flags ^ (DescriptorFlags)(1 << random.Next(3)), // NEXT, WRITE or INDIRECT toggled
            1 => flags | (DescriptorFlags)(8 << random.Next(13)), // an unknown bit
            _ => flags,
        };

        static ulong PairAddress(Random random, ulong usual) => random.Next(14) switch
        {
            0 => RamLength - (ulong)random.Next(1, 12),             // ends in (or runs past) the end of the first region
            1 => AdjacentStart + (ulong)random.Next(0x100),         // the adjacent region (maybe read-only)
            2 => DistantStart + (ulong)random.Next(0x100),          // a read-only region
            3 => 0x18000 + (ulong)random.Next(0x100),               // a gap
            4 => ulong.MaxValue - (ulong)random.Next(8),            // wraps
            5 => AdjacentStart - 8,                                 // stitched across two regions
            _ => usual,
        };

        static uint PairLength(Random random, uint usual) => random.Next(12) switch
        {
            0 => 0,
            1 => uint.MaxValue - (uint)random.Next(4),
            2 => (uint)random.Next(1, (int)usual + 1),
            3 => (uint)random.Next(0x100, 0x20000),
            _ => usual,
        };
    }

    private static void WriteHostileDescriptor(byte[] ram, ulong at, Random random, int tableSize, List<(ulong Address, int Entries)> tables)
    {
        ulong address;
        uint length;
        DescriptorFlags flags = (DescriptorFlags)random.Next(8);
        if (random.Next(10) == 0)
        {
            flags |= (DescriptorFlags)(random.Next(1, 256) << 3); // unknown high bits
        }

        if ((flags & DescriptorFlags.Indirect) != 0 && random.Next(3) != 0)
        {
            (ulong table, int entries) = tables[random.Next(tables.Count)];
            address = table;
            length = random.Next(6) switch
            {
                0 => 0,
                1 => (uint)((16 * entries) + random.Next(1, 16)),
                2 => (uint)(16 * (tableSize + 1)),
                _ => (uint)(16 * entries),
            };
        }
        else
        {
            address = random.Next(9) switch
            {
                0 => RamLength - (ulong)random.Next(1, 32),                  // straddles into the adjacent region
                1 => AdjacentStart + (ulong)random.Next((int)AdjacentLength), // adjacent region
                2 => DistantStart + (ulong)random.Next((int)DistantLength),   // distant region (maybe read-only)
                3 => 0x18000 + (ulong)random.Next(0x1000),                    // gap
                4 => ulong.MaxValue - (ulong)random.Next(64),                 // wraps
                5 => (ulong)random.Next(0x3000),                              // the rings themselves
                _ => DataStart + (ulong)random.Next(0xC000),
            };
            length = random.Next(8) switch
            {
                0 => 0,
                1 => uint.MaxValue - (uint)random.Next(4),
                2 => (uint)random.Next(0x1000, 0x20000),
                _ => (uint)random.Next(1, 64),
            };
        }

        ushort next = random.Next(8) == 0 ? (ushort)random.Next(65536) : (ushort)random.Next(tableSize + 1);
        Span<byte> d = ram.AsSpan((int)at, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(8), length);
        BinaryPrimitives.WriteUInt16LittleEndian(d.Slice(12), (ushort)flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d.Slice(14), next);
    }

    // ----- property 1: hostile rings ------------------------------------------------------------

    private sealed class ModelTracker : ISplitQueueTracker
    {
        private readonly HashSet<ushort> _inFlight = new();

        public List<string> Violations { get; } = new();

        public int Popped { get; private set; }

        public void OnPopped(ushort headIndex)
        {
            Popped++;
            if (!_inFlight.Add(headIndex))
            {
                Violations.Add($"head {headIndex} popped while still in flight");
            }
        }

        public void OnCompleting(ushort headIndex)
        {
            if (!_inFlight.Remove(headIndex))
            {
                Violations.Add($"head {headIndex} completed without being in flight (double completion)");
            }
        }

        public void OnUsedIndexPublished(ushort usedIndex)
        {
        }
    }

    private static void RunHostileScenario(ulong seed)
    {
        Scenario scenario = BuildHostile(seed);
        var recording = new AccessRecordingMemory(scenario.CreateMemory(), scenario.RegionList);
        SplitQueue queue = scenario.CreateQueue(recording);
        var tracker = new ModelTracker();
        queue.Tracker = tracker;
        var held = new List<(ushort Head, List<(ulong Address, ulong Length)> Writable)>();
        ulong usedRingLength = SplitQueue.GetUsedRingSize(scenario.Size);
        recording.IsWriteAllowed = (address, length) =>
            (address >= UsedRing && address - UsedRing + length <= usedRingLength)
            || held.Any(h => h.Writable.Any(w => address >= w.Address && address - w.Address + length <= w.Length));

        var random = new Random(unchecked((int)seed));
        int size = scenario.Size;
        long bound = 8 + ((long)(size + 1) * (8 + ((long)size * 160)));
        Span<byte> scratch = stackalloc byte[16];
        for (int pop = 0; pop < size + 2; pop++)
        {
            long before = recording.Calls;
            bool popped = queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error);
            long calls = recording.Calls - before;
            Assert.True(calls <= bound, $"seed {seed}: one pop made {calls} memory calls (bound {bound})");
            if (!popped)
            {
                Assert.True(error is VirtqueueError.None or VirtqueueError.AvailIndexOutOfRange or VirtqueueError.InvalidHeadIndex or VirtqueueError.QueueBroken, $"seed {seed}: pop error {error}");
                Assert.Equal(error is not VirtqueueError.None, queue.IsBroken);
                break;
            }

            CheckChain(seed, scenario, chain);
            var writable = new List<(ulong, ulong)>();
            foreach (Descriptor d in chain.WritableDescriptors)
            {
                writable.Add((d.Address.Value, d.Length));
            }

            held.Add((chain.HeadIndex, writable));

            // Drive the buffers like a device would.
            DescriptorChainReader reader = chain.CreateReader();
            while (reader.Read(scratch) > 0)
            {
            }

            DescriptorChainWriter writer = chain.CreateWriter();
            writer.Write(scratch.Slice(0, random.Next(17)));
            uint written = writer.BytesWritten;

            // Complete some now, in random order, keep others.
            while (held.Count > 0 && random.Next(3) != 0)
            {
                int pick = random.Next(held.Count);
                Assert.Equal(VirtqueueError.None, queue.AddUsed(held[pick].Head, pick == held.Count - 1 ? written : 0));
                held.RemoveAt(pick);
            }
        }

        while (held.Count > 0)
        {
            int pick = random.Next(held.Count);
            VirtqueueError completion = queue.AddUsed(held[pick].Head, 0);
            Assert.True(completion is VirtqueueError.None or VirtqueueError.QueueBroken, $"seed {seed}: AddUsed {completion}");
            held.RemoveAt(pick);
        }

        _ = queue.NeedsNotification();
        _ = queue.SetAvailNotifications(random.Next(2) == 0);
        Assert.True(queue.InFlightCount == 0 || queue.IsBroken, $"seed {seed}: {queue.InFlightCount} heads left in flight");
        Assert.True(recording.Violations.Count == 0, $"seed {seed}: {string.Join("; ", recording.Violations.Take(5))}");
        Assert.True(tracker.Violations.Count == 0, $"seed {seed}: {string.Join("; ", tracker.Violations.Take(5))}");
    }

    private static void CheckChain(ulong seed, Scenario scenario, DescriptorChain chain)
    {
        Assert.True(chain.HeadIndex < scenario.Size, $"seed {seed}: head {chain.HeadIndex}");
        Assert.True(chain.Descriptors.Length <= scenario.Size, $"seed {seed}: {chain.Descriptors.Length} descriptors in a queue of {scenario.Size}");
        ulong readable = 0;
        ulong writable = 0;
        bool seenWritable = false;
        foreach (Descriptor d in chain.Descriptors)
        {
            Assert.False(d.IsIndirect, $"seed {seed}: indirect pointer left in a flattened chain");
            Assert.True(d.Address.IsRangeValid(d.Length), $"seed {seed}: wrapping buffer accepted");
            if (d.IsWriteOnly)
            {
                seenWritable = true;
                writable += d.Length;
            }
            else
            {
                Assert.False(seenWritable, $"seed {seed}: readable after writable accepted");
                readable += d.Length;
            }

            Assert.True(IsBacked(scenario, d.Address.Value, d.Length, d.IsWriteOnly ? GuestMemoryAccess.Write : GuestMemoryAccess.Read), $"seed {seed}: buffer {d} not backed");
        }

        Assert.True(readable + writable <= uint.MaxValue, $"seed {seed}: chain of {readable + writable} bytes accepted");
        Assert.Equal(readable, chain.ReadableLength);
        Assert.Equal(writable, chain.WritableLength);
    }

    private static bool IsBacked(Scenario scenario, ulong address, ulong length, GuestMemoryAccess access)
    {
        if (length == 0)
        {
            return true;
        }

        ulong current = address;
        ulong remaining = length;
        while (remaining > 0)
        {
            (ulong Start, ulong Length, GuestMemoryAccess Access)? region = scenario.RegionList
                .Select(r => ((ulong, ulong, GuestMemoryAccess)?)r)
                .FirstOrDefault(r => current >= r!.Value.Item1 && current - r.Value.Item1 < r.Value.Item2);
            if (region is null || (region.Value.Access & access) != access)
            {
                return false;
            }

            ulong chunk = Math.Min(remaining, region.Value.Length - (current - region.Value.Start));
            remaining -= chunk;
            current += chunk;
        }

        return true;
    }

    // ----- property 2: fast path == generic path -------------------------------------------------

    private static void RunDifferential(ulong seed) => RunDifferential(BuildHostile(seed), seed);

    /// <summary>Runs the scenario on region memory (host-base fast paths) and through a recording wrapper (the generic
    /// paths); returns how many popped chains were exactly one readable and one writable buffer.</summary>
    private static int RunDifferential(Scenario a, ulong seed)
    {
        Scenario b = a.Clone();
        SplitQueue fast = a.CreateQueue(a.CreateMemory());
        SplitQueue generic = b.CreateQueue(new AccessRecordingMemory(b.CreateMemory(), b.RegionList));
        var fastLog = new List<string>();
        var genericLog = new List<string>();
        fast.InvalidChainCallback = (head, reason) => fastLog.Add($"invalid {head} {reason}");
        generic.InvalidChainCallback = (head, reason) => genericLog.Add($"invalid {head} {reason}");

        int pairs = 0;
        for (int pop = 0; pop < a.Size + 2; pop++)
        {
            bool fastPopped = Step(fast, fastLog, ref pairs);
            int ignored = 0;
            bool genericPopped = Step(generic, genericLog, ref ignored);
            Assert.Equal(fastPopped, genericPopped);
            if (!fastPopped)
            {
                break;
            }
        }

        Assert.Equal(fastLog, genericLog);
        Assert.True(a.Ram.AsSpan().SequenceEqual(b.Ram), $"seed {seed}: guest memory differs between the fast and the generic path");
        Assert.True(a.Adjacent.AsSpan().SequenceEqual(b.Adjacent), $"seed {seed}: the adjacent region differs between the fast and the generic path");
        Assert.Equal(fast.GetState(), generic.GetState());
        return pairs;

        static bool Step(SplitQueue queue, List<string> log, ref int pairs)
        {
            if (!queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error))
            {
                log.Add($"stop {error} broken={queue.IsBroken}");
                return false;
            }

            if (chain.Descriptors.Length == 2 && chain.ReadableDescriptors.Length == 1)
            {
                pairs++;
            }

            var parts = new List<string>();
            foreach (Descriptor d in chain.Descriptors)
            {
                parts.Add(d.ToString());
            }

            log.Add($"pop {chain.HeadIndex} [{string.Join(", ", parts)}]");

            // The inlined single-buffer fast paths of the reader and writer against their general copy loops.
            DescriptorChainReader reader = chain.CreateReader();
            byte[] request = new byte[Math.Min(8, (int)chain.ReadableLength)];
            bool read = reader.TryReadExactly(request);
            bool readPastEnd = reader.TryReadExactly(new byte[reader.Remaining + 1]);
            log.Add($"read {read} {Convert.ToHexString(request)} {readPastEnd} {reader.Remaining} {reader.LastError}");
            DescriptorChainWriter writer = chain.CreateWriter();
            bool wroteExactly = writer.TryWriteExactly(new byte[] { 0xC3 });
            log.Add($"write-exactly {wroteExactly} {writer.BytesWritten}");
            writer.Write(new byte[] { 0xA5, (byte)chain.HeadIndex, 0x5A });
            log.Add($"used {queue.AddUsed(chain.HeadIndex, writer.BytesWritten)}");
            return true;
        }
    }

    // ----- property 3: neighbours ------------------------------------------------------------------

    private static void RunNeighbours(ulong seed)
    {
        var random = new Random(unchecked((int)(seed * 31)));
        const int size = 32;
        byte[] ram = new byte[RamLength];
        var memory = new RegionGuestMemory(new GuestMemoryRegion(new GuestAddress(0), ram));
        var queue = new SplitQueue(size) { Memory = memory, IndirectDescriptorsEnabled = true };
        Assert.True(queue.TrySetSize(size));
        Assert.True(queue.TrySetAddresses(new GuestAddress(DescriptorTable), new GuestAddress(AvailRing), new GuestAddress(UsedRing)));
        Assert.Equal(VirtqueueError.None, queue.TryActivate());

        // Descriptors 0..15 hold valid requests (2 or 3 descriptors each, random split); 16..31 hold garbage.
        var valid = new List<(ushort Head, ulong[] Addresses)>();
        int next = 0;
        ulong data = DataStart;
        while (next + 3 <= 16)
        {
            bool split = random.Next(2) == 0;
            int head = next;
            ulong r1 = data;
            ulong r2 = data + 0x10;
            ulong w = data + 0x20;
            data += 0x40;
            if (split)
            {
                WriteDescriptor(ram, DescriptorTable, next, r1, 3, DescriptorFlags.Next, (ushort)(next + 1));
                WriteDescriptor(ram, DescriptorTable, next + 1, r2, 5, DescriptorFlags.Next, (ushort)(next + 2));
                WriteDescriptor(ram, DescriptorTable, next + 2, w, 2, DescriptorFlags.Write, 0);
                valid.Add(((ushort)head, new[] { r1, r2, w }));
                next += 3;
            }
            else
            {
                WriteDescriptor(ram, DescriptorTable, next, r1, 8, DescriptorFlags.Next, (ushort)(next + 1));
                WriteDescriptor(ram, DescriptorTable, next + 1, w, 2, DescriptorFlags.Write, 0);
                valid.Add(((ushort)head, new[] { r1, w }));
                next += 2;
            }
        }

        var tables = new List<(ulong, int)> { (0x8000, 4), (0x8400, 8) };
        for (int i = 16; i < size; i++)
        {
            WriteHostileDescriptor(ram, DescriptorTable + (ulong)(16 * i), random, size, tables);
        }

        foreach ((ulong table, int entries) in tables)
        {
            for (int i = 0; i < entries; i++)
            {
                WriteHostileDescriptor(ram, table + (ulong)(16 * i), random, entries, tables);
            }
        }

        // Interleave: every valid head once, plus garbage heads from 16..31, at most 32 entries.
        var order = new List<ushort>();
        foreach ((ushort head, _) in valid)
        {
            order.Add(head);
        }

        while (order.Count < size)
        {
            order.Insert(random.Next(order.Count + 1), (ushort)random.Next(16, size));
        }

        for (int i = 0; i < order.Count; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(ram.AsSpan((int)AvailRing + 4 + (2 * i)), order[i]);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(ram.AsSpan((int)AvailRing + 2), (ushort)order.Count);

        var poppedValid = new List<ushort>();
        for (int guard = 0; guard <= size; guard++)
        {
            if (!queue.TryPopAvailable(out DescriptorChain chain, out VirtqueueError error))
            {
                Assert.Equal(VirtqueueError.None, error);
                break;
            }

            ushort popped = chain.HeadIndex;
            if (popped < 16)
            {
                (ushort head, ulong[] addresses) = valid.Single(v => v.Head == popped);
                Assert.Equal(addresses, chain.Descriptors.ToArray().Select(d => d.Address.Value).ToArray());
                Assert.Equal(8u, chain.ReadableLength);
                Assert.Equal(2u, chain.WritableLength);
                poppedValid.Add(head);
            }

            Assert.Equal(VirtqueueError.None, queue.AddUsed(chain.HeadIndex, 0));
        }

        Assert.False(queue.IsBroken, $"seed {seed}: broken by {queue.BrokenReason}");
        Assert.Equal(valid.Select(v => v.Head).ToArray(), poppedValid.ToArray());
        Assert.Equal(order.Count, BinaryPrimitives.ReadUInt16LittleEndian(ram.AsSpan((int)UsedRing + 2)));
    }

    private static void WriteDescriptor(byte[] ram, ulong table, int index, ulong address, uint length, DescriptorFlags flags, ushort next)
    {
        Span<byte> d = ram.AsSpan((int)table + (16 * index), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d.Slice(8), length);
        BinaryPrimitives.WriteUInt16LittleEndian(d.Slice(12), (ushort)flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d.Slice(14), next);
    }
}
