// SPDX-License-Identifier: MIT
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace VirtioGpio.Transport.VhostUser.Tests.Daemon;

/// <summary>A JSON-lines client of the daemon's control socket; every read has a timeout.</summary>
internal sealed class ControlClient : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;

    public ControlClient(string path)
    {
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _socket.Connect(new UnixDomainSocketEndPoint(path));
        _stream = new NetworkStream(_socket, ownsSocket: true);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    public async Task SendRawAsync(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public async Task<JsonElement> RequestAsync(string json)
    {
        await SendRawAsync(json + "\n");
        return await ReadAsync();
    }

    public async Task<JsonElement> ReadAsync()
    {
        string? line = await ReadLineAsync();
        Assert.NotNull(line);
        using JsonDocument doc = JsonDocument.Parse(line);
        return doc.RootElement.Clone();
    }

    /// <summary>Reads lines until one satisfies <paramref name="match"/>.</summary>
    public async Task<JsonElement> ReadUntilAsync(Func<JsonElement, bool> match)
    {
        while (true)
        {
            JsonElement e = await ReadAsync();
            if (match(e))
            {
                return e;
            }
        }
    }

    public async Task<string?> ReadLineAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            return await _reader.ReadLineAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no line from the control socket within {Timeout}");
        }
    }

    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
    }
}
