// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing;

/// <summary>A requestq message submitted by <see cref="VirtioGpioTestDriver.SubmitRequest"/> and not necessarily completed yet.</summary>
public sealed class GpioRequestHandle
{
    internal GpioRequestHandle(ushort type, ushort gpio, uint value, int expectedLength, byte[] requestBytes)
    {
        Type = type;
        Gpio = gpio;
        Value = value;
        ExpectedLength = expectedLength;
        RequestBytes = requestBytes;
    }

    /// <summary>The <c>type</c> field (VIRTIO_GPIO_MSG_*).</summary>
    public ushort Type { get; }

    /// <summary>The <c>gpio</c> field.</summary>
    public ushort Gpio { get; }

    /// <summary>The <c>value</c> field.</summary>
    public uint Value { get; }

    /// <summary>The used length Linux would expect (2, or 1 + N for names).</summary>
    public int ExpectedLength { get; }

    /// <summary>The readable bytes as sent (8 for a well-formed request).</summary>
    public byte[] RequestBytes { get; }

    /// <summary>The descriptor chain that carries the message.</summary>
    public SubmittedChain Chain { get; internal set; } = null!;

    /// <summary>Whether the completion was taken from the used ring.</summary>
    public bool IsCompleted => Completion is not null;

    /// <summary>The completion, once taken.</summary>
    public GpioCompletion? Completion { get; internal set; }

    /// <inheritdoc/>
    public override string ToString() => $"type {Type} gpio {Gpio} value {Value}";
}
