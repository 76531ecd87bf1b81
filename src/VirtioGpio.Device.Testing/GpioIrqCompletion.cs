// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing;

/// <summary>
/// An eventq pair the device returned (STANDARD.md §8: <c>irq_request { le16 gpio }</c>,
/// <c>irq_response { u8 status }</c>, used len 1). Like Linux, the line comes from the driver's own
/// record of the buffer, not from device data.
/// </summary>
public sealed class GpioIrqCompletion
{
    internal GpioIrqCompletion(ushort line, uint usedLength, byte[] responseBuffer, bool isTracked)
    {
        Line = line;
        UsedLength = usedLength;
        ResponseBuffer = responseBuffer;
        IsTracked = isTracked;
    }

    /// <summary>The line the pair was armed for (<see cref="ushort.MaxValue"/> when untracked).</summary>
    public ushort Line { get; }

    /// <summary>The used element's <c>len</c> (Linux requires 1: otherwise "irq with incorrect length").</summary>
    public uint UsedLength { get; }

    /// <summary>The response buffer after completion.</summary>
    public byte[] ResponseBuffer { get; }

    /// <summary>Whether the used id matched an outstanding eventq pair.</summary>
    public bool IsTracked { get; }

    /// <summary>The status byte: 0 = INVALID, 1 = VALID (0xFF when the buffer is empty).</summary>
    public byte Status => ResponseBuffer.Length > 0 ? ResponseBuffer[0] : (byte)0xFF;

    /// <summary>Status VALID with used len 1: an interrupt.</summary>
    public bool IsValid => Status == 1 && UsedLength == 1;

    /// <summary>Status INVALID with used len 1: the device returned the pair without an interrupt (disable, D12).</summary>
    public bool IsInvalid => Status == 0 && UsedLength == 1;

    /// <inheritdoc/>
    public override string ToString() => $"irq line {Line} status {Status} len {UsedLength}";
}
