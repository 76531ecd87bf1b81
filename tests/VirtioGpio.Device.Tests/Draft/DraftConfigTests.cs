// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio.Draft;
using VirtioGpio.Device.Virtqueues;

namespace VirtioGpio.Device.Tests.Draft;

/// <summary>DRAFT.md §10 "Config and negotiation", tests 1–6.</summary>
public class DraftConfigTests
{
    private const string ConfigImage =
        "01 00 08 00 11 00 00 00 00 00 00 00 00 00 00 00" +
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00" +
        "64 72 61 66 74 2d 67 70 69 6f 00 00 00 00 00 00" +
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00" +
        "4c 45 44 30 00 00 42 54 4e 31 00 52 45 4c 41 59" +
        "00";

    private static DraftVirtioGpioDevice CreateDevice() => new(DraftDeviceHarness.DefaultOptions());

    [Fact]
    [Trait("Spec", "DRAFT-1")]
    public void ConfigImageIs0x51BytesReadOneByteAtATime()
    {
        var device = CreateDevice();
        Assert.Equal(0x51, device.ConfigSize);
        byte[] read = new byte[0x51];
        for (uint i = 0; i < read.Length; i++)
        {
            device.ReadConfig(i, read.AsSpan((int)i, 1));
        }

        Assert.Equal(DraftDeviceHarness.Hex(ConfigImage), read);
    }

    [Fact]
    [Trait("Spec", "DRAFT-2")]
    public void TwoAndFourByteReadsAtTheirOffsetsAndByteReadsEverywhere()
    {
        var device = CreateDevice();
        byte[] two = new byte[2];
        device.ReadConfig(0x02, two);
        Assert.Equal(new byte[] { 0x08, 0x00 }, two);
        byte[] four = new byte[4];
        device.ReadConfig(0x04, four);
        Assert.Equal(new byte[] { 0x11, 0, 0, 0 }, four);

        byte[] expected = DraftDeviceHarness.Hex(ConfigImage);
        byte[] one = new byte[1];
        for (uint i = 0; i <= 0x50; i++)
        {
            one[0] = 0xCC;
            device.ReadConfig(i, one);
            Assert.Equal(expected[i], one[0]);
        }

        // Past the end: zeros, never out of bounds (saturating offsets).
        byte[] tail = { 0xCC, 0xCC, 0xCC, 0xCC };
        device.ReadConfig(0x50, tail);
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, tail);
        tail.AsSpan().Fill(0xCC);
        device.ReadConfig(uint.MaxValue, tail);
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, tail);

        // Writes are ignored.
        device.WriteConfig(0, new byte[] { 9, 9, 9, 9 });
        device.ReadConfig(0, four);
        Assert.Equal(new byte[] { 1, 0, 8, 0 }, four);
        Assert.Equal(0u, device.ConfigGeneration);
    }

    [Fact]
    [Trait("Spec", "DRAFT-3")]
    public void NamesSizeOf24IsPaddedTo26And17And0AreNot()
    {
        // 24 bytes: "ABCDEFGHIJK" (12) + "LMNOPQRSTUV" (12).
        var padded = DraftGpioConfig.Create(8, "", new[] { "ABCDEFGHIJK", "LMNOPQRSTUV" });
        Assert.Equal(24u, padded.UnpaddedNamesSize);
        Assert.Equal(26u, padded.NamesSize);
        Assert.Equal(0x40 + 26, padded.Size);
        Assert.Equal(new byte[] { 0, 0 }, padded.Bytes.Slice(0x40 + 24).ToArray());

        var seventeen = DraftGpioConfig.Create(8, "", new[] { "LED0", "", "BTN1", "RELAY" });
        Assert.Equal(17u, seventeen.NamesSize);
        var none = DraftGpioConfig.Create(8, "", Array.Empty<string>());
        Assert.Equal(0u, none.NamesSize);
        Assert.Equal(0x40, none.Size);
    }

    [Fact]
    [Trait("Spec", "DRAFT-3")]
    public void EverySizeFrom0To192AvoidsTheForbiddenSet()
    {
        uint[] forbidden = { 23, 24, 55, 56, 87, 88, 151, 152, 215, 216 };
        DraftNamesSizePolicy policy = DraftNamesSizePolicy.LinuxX8664v61;
        for (uint size = 0; size <= 192; size++)
        {
            Assert.Equal(forbidden.Contains(size), policy.IsForbidden(size));
            uint padded = DraftGpioConfig.PadNamesSize(size, policy);
            Assert.DoesNotContain(padded, forbidden);
            Assert.True(padded >= size && (padded - size) % 2 == 0);
            Assert.Equal(forbidden.Contains(size) ? size + 2 : size, padded); // one NUL pair always suffices here
        }

        // The same through the builder: names of total size n for n in 1..192 (one name of n-1 chars, or n empty names).
        for (int n = 1; n <= 192; n++)
        {
            string?[] names = n <= 33 ? Enumerable.Range(0, 1).Select(_ => new string('x', n - 1)).ToArray<string?>() : new[] { new string('y', n - 1) };
            var config = DraftGpioConfig.Create(256, "", names, policy, maxConfigSize: 1024);
            Assert.Equal((uint)n, config.UnpaddedNamesSize);
            Assert.False(policy.IsForbidden(config.NamesSize));
        }

        // A custom (e.g. arm64) policy is honoured, and "None" never pads.
        var custom = new DraftNamesSizePolicy(128, new[] { 192, 256 });
        Assert.Equal(66u, DraftGpioConfig.PadNamesSize(64, custom)); // 128 + 64 = 192 → forbidden
        Assert.Equal(24u, DraftGpioConfig.PadNamesSize(24, DraftNamesSizePolicy.None));
    }

    [Fact]
    [Trait("Spec", "DRAFT-4")]
    public void ConfigsAboveTheTransportMaximumOrWithBadLineCountsAreRejected()
    {
        // 0x40 + 193 > 256 under vhost-user; 192 fits.
        Assert.Throws<ArgumentException>(() => DraftGpioConfig.Create(8, "", new[] { new string('a', 192) }));
        Assert.Equal(256, DraftGpioConfig.Create(8, "", new[] { new string('a', 191) }).Size);
        Assert.Equal(0x40 + 193, DraftGpioConfig.Create(8, "", new[] { new string('a', 192) }, maxConfigSize: 4096).Size);

        Assert.Throws<ArgumentOutOfRangeException>(() => DraftGpioConfig.Create(0, "", Array.Empty<string>()));
        Assert.Throws<ArgumentOutOfRangeException>(() => DraftGpioConfig.Create(257, "", Array.Empty<string>()));
        Assert.Equal(256, DraftGpioConfig.Create(256, "", Array.Empty<string>()).LineCount);

        Assert.Throws<ArgumentException>(() => new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { LineCount = 0 }));
        Assert.Throws<ArgumentException>(() => new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { LineCount = 257 }));
        Assert.Throws<ArgumentException>(() => new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { LineNames = new[] { new string('n', 200) } }));
        Assert.Throws<ArgumentException>(() => new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { LineCount = 2, LineNames = new[] { "a", "b", "c" } }));
        Assert.Throws<ArgumentException>(() => new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { ChipName = new string('c', 33) }));
        Assert.Throws<ArgumentException>(() => new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { LineNames = new[] { "dup", "dup" } }));
    }

    [Fact]
    [Trait("Spec", "DRAFT-1")]
    public void AFull32ByteChipNameNeedsNoTerminatorAndDeviceIdIsConfigurable()
    {
        string name = new('N', 32);
        var device = new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { ChipName = name, DeviceId = 41, LineNames = Array.Empty<string>() });
        byte[] bytes = new byte[32];
        device.ReadConfig(0x20, bytes);
        Assert.All(bytes, b => Assert.Equal((byte)'N', b));
        Assert.Equal(41u, device.DeviceId);
        Assert.Equal(30u, CreateDevice().DeviceId);
        Assert.Equal(0x40, device.ConfigSize);
    }

    [Fact]
    [Trait("Spec", "DRAFT-5")]
    public void OnlyVersion1IsOffered()
    {
        var device = CreateDevice();
        Assert.Equal(VirtioFeatures.Version1, device.DeviceFeatures);
        Assert.Equal(0UL, device.DeviceFeatures & VirtioFeatures.RingEventIdx);
        Assert.Equal(0UL, device.DeviceFeatures & VirtioFeatures.RingPacked);
        Assert.Equal(0UL, device.DeviceFeatures & 0xFFFFFFUL); // no device-specific bits (0..23)
        Assert.False(device.TryAcceptFeatures(VirtioFeatures.Version1 | VirtioFeatures.RingEventIdx));
        Assert.False(device.TryAcceptFeatures(VirtioFeatures.Version1 | 1));
        Assert.Equal(0UL, device.DriverFeatures);
        Assert.True(device.TryAcceptFeatures(VirtioFeatures.Version1));
        Assert.Equal(VirtioFeatures.Version1, device.DriverFeatures);
    }

    [Fact]
    [Trait("Spec", "DRAFT-6")]
    public void ExactlyTwoQueuesWithPowerOfTwoSizesAndTheConfiguredBudget()
    {
        var device = new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { RequestQueueMaxSize = 512, ReplyQueueMaxSize = 4 });
        Assert.Equal(2, device.QueueCount);
        Assert.Equal(4, device.GetQueue(0).MaxSize);
        Assert.Equal(512, device.GetQueue(1).MaxSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => device.GetQueue(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.GetQueue(-1));
        Assert.False(device.GetQueue(1).TrySetSize(0));
        Assert.False(device.GetQueue(1).TrySetSize(3));
        Assert.False(device.GetQueue(1).TrySetSize(1024));
        Assert.True(device.GetQueue(1).TrySetSize(512));

        Assert.Equal(1024, new DraftVirtioGpioDevice().GetQueue(1).MaxSize); // default budget: QEMU's maximum
        Assert.Throws<ArgumentException>(() => new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { ReplyQueueMaxSize = 1 }));
        Assert.Throws<ArgumentException>(() => new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { RequestQueueMaxSize = 1000 }));
        Assert.Throws<ArgumentException>(() => new DraftVirtioGpioDevice(new DraftVirtioGpioDeviceOptions { ReplyMask = 0x0011 }));
        Assert.Equal(VirtqueueError.QueueNotReady, device.SetQueueReady(2, true));
    }
}
