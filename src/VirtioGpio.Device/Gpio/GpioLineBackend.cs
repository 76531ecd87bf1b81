// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Gpio;

/// <summary>
/// The host side of a set of GPIO lines that a virtio-gpio device exposes to the guest, shaped like
/// <c>System.Device.Gpio.GpioDriver</c> (named "backend" because in virtio "driver" means the guest).
/// Implementations: <see cref="SimulatedGpioLineBackend"/> (in-process lines), hardware adapters (libgpiod,
/// <c>System.Device.Gpio</c>).
/// </summary>
/// <remarks>
/// <para>Contract with the device: the device validates every guest-supplied line number before calling, so
/// every <c>lineNumber</c> passed in is in 0 .. <see cref="LineCount"/> - 1; the device serialises its own calls
/// (one at a time), but host code may call a backend's own extra members concurrently, so implementations must be
/// thread-safe. A backend reports level changes of input lines through the <see cref="IGpioLineEventSink"/> given to
/// <see cref="Attach(IGpioLineEventSink?)"/>, never while holding one of its locks.</para>
/// <para>Errors: a hardware failure should be reported by throwing <see cref="IOException"/>; the device turns it
/// into an error reply to the guest (STYLE.md §C "host backend failure") and never crashes.</para>
/// </remarks>
public abstract class GpioLineBackend : IDisposable
{
    private readonly object _sinkGate = new();
    private volatile IGpioLineEventSink? _sink;
    private bool _disposed;

    /// <summary>Number of lines; constant for the backend's lifetime (<c>ngpio</c>).</summary>
    public abstract int LineCount { get; }

    /// <summary>The sink currently attached, if any.</summary>
    protected IGpioLineEventSink? EventSink => _sink;

    /// <summary>Whether <see cref="Dispose()"/> was called.</summary>
    protected bool IsDisposed => _disposed;

    /// <summary>The name of a line, or an empty string when unnamed.</summary>
    /// <param name="lineNumber">The line.</param>
    /// <returns>The name; 7-bit ASCII without NUL.</returns>
    public virtual string GetLineName(int lineNumber) => string.Empty;

    /// <summary>Reads the level of a line: the sensed level for an input or unconfigured line, the driven (or read-back) level for an output.</summary>
    /// <param name="lineNumber">The line.</param>
    /// <returns>The level.</returns>
    public abstract LineValue Read(int lineNumber);

    /// <summary>
    /// Reads several lines. Each element's <see cref="LineValuePair.LineNumber"/> selects the line; the element is
    /// replaced by the pair with the level read.
    /// </summary>
    /// <param name="lines">The lines to read.</param>
    /// <remarks>The default implementation calls <see cref="Read(int)"/> per line; override for bulk hardware reads.</remarks>
    public virtual void Read(Span<LineValuePair> lines)
    {
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNumber = lines[i].LineNumber;
            lines[i] = new LineValuePair(lineNumber, Read(lineNumber));
        }
    }

    /// <summary>Sets the output value of a line. On a line that is not an output, the value is remembered and driven when the line becomes one.</summary>
    /// <param name="lineNumber">The line.</param>
    /// <param name="value">The level to drive.</param>
    public abstract void Write(int lineNumber, LineValue value);

    /// <summary>Configures a line's direction. For <see cref="GpioDirection.Output"/> the line starts driving <paramref name="initialValue"/> glitch-free.</summary>
    /// <param name="lineNumber">The line.</param>
    /// <param name="direction">The new direction; <see cref="GpioDirection.None"/> releases the line.</param>
    /// <param name="initialValue">The level to drive when <paramref name="direction"/> is <see cref="GpioDirection.Output"/>; ignored otherwise.</param>
    public abstract void SetDirection(int lineNumber, GpioDirection direction, LineValue initialValue);

    /// <summary>
    /// Tells the backend which changes of an input line the guest is interested in, so a hardware backend can
    /// arm edge detection. Level changes are still reported for every input line; the device does the IRQ logic.
    /// </summary>
    /// <param name="lineNumber">The line.</param>
    /// <param name="irqType">The trigger type; <see cref="GpioIrqType.None"/> disarms.</param>
    public abstract void SetIrqType(int lineNumber, GpioIrqType irqType);

    /// <summary>
    /// Attaches the device's event sink (or detaches it with <see langword="null"/>). A backend serves one device:
    /// attaching a second sink while one is attached fails. Override to start or stop hardware monitoring; call the
    /// base implementation.
    /// </summary>
    /// <param name="sink">The sink, or <see langword="null"/> to detach.</param>
    /// <exception cref="InvalidOperationException">Another sink is already attached.</exception>
    /// <exception cref="ObjectDisposedException">The backend was disposed and <paramref name="sink"/> is not <see langword="null"/>.</exception>
    protected internal virtual void Attach(IGpioLineEventSink? sink)
    {
        lock (_sinkGate)
        {
            if (sink is not null)
            {
                if (_disposed)
                {
                    throw new ObjectDisposedException(GetType().Name);
                }

                if (_sink is not null && !ReferenceEquals(_sink, sink))
                {
                    throw new InvalidOperationException("A GpioLineBackend serves one device; detach the current sink first.");
                }
            }

            _sink = sink;
        }
    }

    /// <summary>Releases the backend.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources; detaches the sink.</summary>
    /// <param name="disposing"><see langword="true"/> when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        lock (_sinkGate)
        {
            _disposed = true;
            _sink = null;
        }
    }
}
