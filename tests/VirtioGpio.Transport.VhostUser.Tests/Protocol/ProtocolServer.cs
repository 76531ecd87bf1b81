// SPDX-License-Identifier: MIT
using VirtioGpio.Device.Gpio;
using VirtioGpio.Device.Testing.VhostUser;
using VirtioGpio.Transport.VhostUser;

namespace VirtioGpio.Transport.VhostUser.Tests.Protocol;

/// <summary>
/// A real <see cref="VhostUserBackendServer"/> on a real socket in a fresh temp directory, serving
/// a real standard <see cref="VirtioGpioDevice"/> over simulated lines (8 lines named
/// "line-0".."line-7": <c>gpio_names_size</c> = 56, as in VHOST-USER.md §12.1 step 8).
/// </summary>
internal sealed class ProtocolServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly bool _ownsDevice;
    private readonly bool _ownsDirectory;
    private int _connected;
    private int _disconnected;

    private ProtocolServer(string directory, VirtioGpioDevice device, bool ownsDevice, bool ownsDirectory, VhostUserBackendOptions? options)
    {
        Directory = directory;
        SocketPath = Path.Combine(directory, "gpio.sock");
        Device = device;
        _ownsDevice = ownsDevice;
        _ownsDirectory = ownsDirectory;
        Server = new VhostUserBackendServer(SocketPath, device, options);
        Server.Connected += (_, _) => Interlocked.Increment(ref _connected);
        Server.Disconnected += (_, _) => Interlocked.Increment(ref _disconnected);
        RunTask = Server.RunAsync(_cts.Token);
    }

    public string Directory { get; }

    public string SocketPath { get; }

    public VirtioGpioDevice Device { get; }

    public SimulatedGpioLineBackend Lines => (SimulatedGpioLineBackend)Device.Backend;

    public VhostUserBackendServer Server { get; }

    public Task RunTask { get; }

    public int DisconnectedCount => Volatile.Read(ref _disconnected);

    public static VirtioGpioDevice CreateDevice(int queueMaxSize = 1024)
    {
        var names = new GpioLineNames(Enumerable.Range(0, 8).Select(i => $"line-{i}"));
        return new VirtioGpioDevice(new VirtioGpioDeviceOptions
        {
            LineNames = names,
            RequestQueueMaxSize = queueMaxSize,
            EventQueueMaxSize = queueMaxSize,
        });
    }

    public static ProtocolServer Start(VhostUserBackendOptions? options = null, VirtioGpioDevice? device = null, string? directory = null, bool ownsDevice = true)
    {
        string dir = directory ?? CreateTempDirectory();
        return new ProtocolServer(dir, device ?? CreateDevice(), ownsDevice, directory is null, options);
    }

    public static string CreateTempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vgpio-proto-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(dir);
        return dir;
    }

    public VhostUserFrontendClient Connect(VhostUserFrontendClientOptions? options = null)
    {
        if (RunTask.IsFaulted)
        {
            throw new InvalidOperationException("The server stopped.", RunTask.Exception);
        }

        return VhostUserFrontendClient.Connect(SocketPath, options);
    }

    /// <summary>A started client: negotiated, memory table sent, requestq (and eventq when <paramref name="withEventQueue"/>) set up and enabled.</summary>
    public VhostUserFrontendClient ConnectAndStart(bool withEventQueue = false, VhostUserFrontendClientOptions? options = null, int queueSize = 256)
    {
        VhostUserFrontendClient client = Connect(options);
        try
        {
            client.Negotiate();
            client.SetMemTable();
            client.SetUpQueue(0, queueSize);
            if (withEventQueue)
            {
                client.SetUpQueue(1, queueSize);
            }

            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Asserts the server still serves: a new connection answers GET_FEATURES.</summary>
    public void AssertServesNextConnection()
    {
        using VhostUserFrontendClient next = Connect(new VhostUserFrontendClientOptions { Timeout = TimeSpan.FromSeconds(10), MemorySize = 1 << 16 });
        ulong features = next.GetFeatures();
        Assert.NotEqual(0UL, features & VhostUserFrontendClient.ProtocolFeaturesFeature);
        Assert.False(RunTask.IsCompleted, "the server stopped");
    }

    /// <summary>Waits until the server saw <paramref name="count"/> disconnects.</summary>
    public void WaitForDisconnects(int count, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DisconnectedCount < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The server saw {DisconnectedCount} of {count} disconnects.");
            }

            Thread.Sleep(5);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        await Server.DisposeAsync();
        try
        {
            await RunTask.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
        }

        if (_ownsDevice)
        {
            Device.Dispose();
        }

        _cts.Dispose();
        if (_ownsDirectory)
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
