// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing;

/// <summary>
/// A completed requestq message as <see cref="VirtioGpioTestDriver"/> saw it: the used length and
/// the whole response buffer (bytes past the used length keep the fill byte unless the device
/// wrote them). <see cref="IsOk"/> applies Linux's two checks (STANDARD.md §9.1).
/// </summary>
public sealed class GpioCompletion
{
    internal GpioCompletion(GpioRequestHandle request, uint usedLength, byte[] responseBuffer)
    {
        Request = request;
        UsedLength = usedLength;
        ResponseBuffer = responseBuffer;
    }

    /// <summary>The request this completes.</summary>
    public GpioRequestHandle Request { get; }

    /// <summary>The used element's <c>len</c>.</summary>
    public uint UsedLength { get; }

    /// <summary>Every byte of the response buffer after completion (status, then value or names block).</summary>
    public byte[] ResponseBuffer { get; }

    /// <summary>The length Linux expects: 2, or 1 + N for GET_LINE_NAMES.</summary>
    public int ExpectedLength => Request.ExpectedLength;

    /// <summary>The response <c>status</c> byte (0 = OK, 1 = ERR), or 0xFF when the buffer is empty.</summary>
    public byte Status => ResponseBuffer.Length > 0 ? ResponseBuffer[0] : (byte)0xFF;

    /// <summary>The response <c>value</c> byte (direction, level, …), or 0xFF when the buffer is shorter than 2 bytes.</summary>
    public byte Value => ResponseBuffer.Length > 1 ? ResponseBuffer[1] : (byte)0xFF;

    /// <summary>The bytes after the status byte (the names block for GET_LINE_NAMES).</summary>
    public ReadOnlyMemory<byte> Payload => ResponseBuffer.Length > 1 ? ResponseBuffer.AsMemory(1) : ReadOnlyMemory<byte>.Empty;

    /// <summary>Whether the used length equals <see cref="ExpectedLength"/> exactly (Linux: otherwise "returned incorrect len", -EINVAL).</summary>
    public bool HasExpectedLength => UsedLength == (uint)ExpectedLength;

    /// <summary>Status OK and exact length: what Linux's <c>virtio_gpio_req</c> accepts.</summary>
    public bool IsOk => Status == 0 && HasExpectedLength;

    /// <summary>Status ERR with the exact length: a clean, well-formed failure.</summary>
    public bool IsErr => Status == 1 && HasExpectedLength;

    /// <inheritdoc/>
    public override string ToString() => $"{Request} -> len {UsedLength} [{Convert.ToHexString(ResponseBuffer.AsSpan(0, Math.Min(ResponseBuffer.Length, 16)))}]";
}
