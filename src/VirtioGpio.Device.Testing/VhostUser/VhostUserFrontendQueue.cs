// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Diagnostics;
using VirtioGpio.Transport.VhostUser.Interop;

namespace VirtioGpio.Device.Testing.VhostUser;

/// <summary>
/// One virtqueue of a <see cref="VhostUserFrontendClient"/>: the driver side of the split ring in
/// the shared guest memory (<see cref="Driver"/>), plus the kick and call eventfds handed to the
/// back-end. Submit chains, <see cref="PublishAndKick"/>, then <see cref="WaitForCompletions"/>.
/// </summary>
/// <remarks>Not thread-safe: one test thread drives it; the back-end runs concurrently.</remarks>
public sealed class VhostUserFrontendQueue : IDisposable
{
    private readonly TimeSpan _timeout;
    private int _kickFd;
    private int _callFd;

    internal VhostUserFrontendQueue(int index, SimulatedVirtioDriver driver, TimeSpan timeout)
    {
        Index = index;
        Driver = driver;
        _timeout = timeout;
        _kickFd = EventFd.Create();
        try
        {
            _callFd = EventFd.Create();
        }
        catch
        {
            FileDescriptors.Close(_kickFd);
            throw;
        }
    }

    /// <summary>The queue index (0 = requestq, 1 = eventq for GPIO).</summary>
    public int Index { get; }

    /// <summary>The driver side of the ring (raw access for malformed chains).</summary>
    public SimulatedVirtioDriver Driver { get; }

    /// <summary>Where the rings are (guest physical addresses).</summary>
    public SplitRingLayout Layout => Driver.Layout;

    /// <summary>Queue size.</summary>
    public int Size => Driver.QueueSize;

    /// <summary>The kick eventfd (front-end → back-end), owned by the queue.</summary>
    public int KickFd => _kickFd;

    /// <summary>The call eventfd (back-end → front-end), owned by the queue.</summary>
    public int CallFd => _callFd;

    /// <summary>Whether every kick is sent regardless of the device's suppression state (default <see langword="true"/>; otherwise <see cref="SimulatedVirtioDriver.Publish"/> decides).</summary>
    public bool KickAlways { get; set; } = true;

    /// <summary>Kicks sent.</summary>
    public long KickCount { get; private set; }

    /// <summary>Signals the kick eventfd.</summary>
    public void Kick()
    {
        if (!EventFd.Signal(_kickFd))
        {
            throw new IOException("Writing the kick eventfd failed.");
        }

        KickCount++;
    }

    /// <summary>Publishes the staged chains (<c>avail.idx</c>, release store) and kicks when asked to.</summary>
    /// <returns>Whether a kick was sent.</returns>
    public bool PublishAndKick()
    {
        bool wanted = Driver.Publish();
        if (wanted || KickAlways)
        {
            Kick();
            return true;
        }

        return false;
    }

    /// <summary>Waits until the back-end signals the call eventfd, and resets it.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns><see langword="false"/> on timeout.</returns>
    public bool WaitForCall(TimeSpan timeout) => EventFd.Wait(_callFd, ToMilliseconds(timeout));

    /// <summary>Reads and resets the call eventfd counter without waiting.</summary>
    /// <returns>The number of signals since the last drain (0 when none).</returns>
    public ulong DrainCalls() => EventFd.TryDrain(_callFd, out ulong value) ? value : 0;

    /// <summary>Adds a GPIO request chain: the 8-byte <c>virtio_gpio_request</c> (readable) and a response buffer (writable) (STANDARD.md §4.1). Not published yet.</summary>
    /// <param name="type">Message type (any value, unknown ones included).</param>
    /// <param name="line">The <c>gpio</c> field.</param>
    /// <param name="value">The <c>value</c> field.</param>
    /// <param name="responseSize">Writable bytes (2, or 1 + names size for GET_LINE_NAMES).</param>
    /// <returns>The chain.</returns>
    public SubmittedChain AddGpioRequest(ushort type, ushort line, uint value, int responseSize = 2)
    {
        byte[] request = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(request, type);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), line);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), value);
        return Driver.AddChain(new ReadOnlyMemory<byte>[] { request }, new[] { responseSize });
    }

    /// <summary>Adds an eventq pair for <paramref name="line"/>: 2-byte <c>virtio_gpio_irq_request</c>, 1-byte response (STANDARD.md §8). Not published yet.</summary>
    /// <param name="line">The line.</param>
    /// <returns>The chain.</returns>
    public SubmittedChain AddIrqPair(ushort line)
    {
        byte[] request = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(request, line);
        return Driver.AddChain(new ReadOnlyMemory<byte>[] { request }, new[] { 1 });
    }

    /// <summary>Sends one GPIO request and waits for its completion.</summary>
    /// <param name="type">Message type.</param>
    /// <param name="line">The <c>gpio</c> field.</param>
    /// <param name="value">The <c>value</c> field.</param>
    /// <param name="responseSize">Writable bytes.</param>
    /// <returns>The completion (<see cref="DriverCompletion.Written"/> holds status and value).</returns>
    /// <exception cref="TimeoutException">No completion within the client's timeout.</exception>
    public DriverCompletion SendGpioRequest(ushort type, ushort line, uint value, int responseSize = 2)
    {
        SubmittedChain chain = AddGpioRequest(type, line, value, responseSize);
        PublishAndKick();
        IReadOnlyList<DriverCompletion> done = WaitForCompletions(1);
        if (done[0].Chain != chain)
        {
            throw new InvalidOperationException($"Expected the completion of {chain}, got {done[0]}.");
        }

        return done[0];
    }

    /// <summary>
    /// Takes used elements until <paramref name="count"/> arrived, waiting on the call eventfd
    /// (and re-checking the used ring every 20 ms, so a missing call cannot hang a test).
    /// </summary>
    /// <param name="count">How many completions to wait for.</param>
    /// <param name="timeout">Overall limit (default: the client's timeout).</param>
    /// <returns>The completions in used-ring order (possibly more than <paramref name="count"/> if more were published).</returns>
    /// <exception cref="TimeoutException">Fewer arrived in time.</exception>
    public IReadOnlyList<DriverCompletion> WaitForCompletions(int count, TimeSpan? timeout = null)
    {
        var done = new List<DriverCompletion>(count);
        var stopwatch = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? _timeout;
        while (true)
        {
            while (Driver.TryTakeUsed(out DriverCompletion completion))
            {
                done.Add(completion);
            }

            if (done.Count >= count)
            {
                return done;
            }

            TimeSpan left = limit - stopwatch.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"Queue {Index}: {done.Count} of {count} completions within {limit.TotalMilliseconds} ms (used.idx {Driver.ReadUsedIndex()}, avail.idx {Driver.AvailIndex}).");
            }

            _ = EventFd.Wait(_callFd, Math.Min(20, ToMilliseconds(left)));
        }
    }

    /// <summary>Takes every used element published so far, without waiting.</summary>
    /// <returns>The completions.</returns>
    public IReadOnlyList<DriverCompletion> TakeCompletions() => Driver.TakeAllUsed();

    /// <summary>Replaces the call eventfd with a new one (the caller then sends SET_VRING_CALL); the old one is closed.</summary>
    /// <returns>The new fd.</returns>
    public int RenewCallFd()
    {
        FileDescriptors.Replace(ref _callFd, EventFd.Create());
        return _callFd;
    }

    /// <summary>Replaces the kick eventfd with a new one (the caller then sends SET_VRING_KICK); the old one is closed.</summary>
    /// <returns>The new fd.</returns>
    public int RenewKickFd()
    {
        FileDescriptors.Replace(ref _kickFd, EventFd.Create());
        return _kickFd;
    }

    /// <summary>Closes the eventfds. Idempotent.</summary>
    public void Dispose()
    {
        FileDescriptors.Close(Interlocked.Exchange(ref _kickFd, -1));
        FileDescriptors.Close(Interlocked.Exchange(ref _callFd, -1));
    }

    /// <inheritdoc/>
    public override string ToString() => $"queue {Index} {Layout}";

    internal static int ToMilliseconds(TimeSpan timeout) =>
        timeout <= TimeSpan.Zero ? 0 : (int)Math.Min(int.MaxValue, Math.Ceiling(timeout.TotalMilliseconds));
}
