// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Testing;

namespace VirtioGpio.Device.Tests.Testing;

/// <summary>The kit's GPIO driver against the real <see cref="VirtioGpioDevice"/>: the smoke path every conformance test builds on.</summary>
public sealed class VirtioGpioTestDriverWithDeviceTests
{
    [Fact]
    public void LinuxStyleProbeSetGetAndEdgeInterruptWork()
    {
        using var device = new VirtioGpioDevice(new VirtioGpioDeviceOptions { LineCount = 4 });
        var lines = (SimulatedGpioLineBackend)device.Backend;
        var driver = new VirtioGpioTestDriver(device);

        IReadOnlyList<GpioCompletion> probe = driver.ProbeLikeLinux();
        Assert.True(driver.IrqNegotiated);
        Assert.True(driver.IndirectNegotiated);
        Assert.Equal(4, driver.Config.LineCount);
        Assert.All(probe, reply => Assert.Equal((uint)reply.ExpectedLength, reply.UsedLength));

        Assert.True(driver.DirectionOutput(1, 1).IsOk);
        Assert.Equal(LineValue.High, lines.GetLevel(1));
        GpioCompletion value = driver.GetValue(1);
        Assert.True(value.IsOk);
        Assert.Equal(1, value.Value);

        Assert.True(driver.SetDirection(2, 2).IsOk);
        Assert.True(driver.SetIrqType(2, 1).IsOk);          // EDGE_RISING
        driver.ArmIrq(2);
        lines.SetInputLevel(2, LineValue.High);
        GpioIrqCompletion irq = driver.WaitForIrqCompletion();
        Assert.Equal(2, irq.Line);
        Assert.True(irq.IsValid);
        Assert.Empty(driver.UnexpectedCompletions);
        Assert.False(device.NeedsReset);
    }
}
