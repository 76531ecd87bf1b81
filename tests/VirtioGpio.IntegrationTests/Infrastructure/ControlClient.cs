// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace VirtioGpio.IntegrationTests.Infrastructure;

/// <summary>
/// A client of the daemon's JSON-lines control socket (docs/control-protocol.md): one connection for requests and,
/// once <see cref="SubscribeAsync"/> ran, a second one that records every event line.
/// </summary>
public sealed class ControlClient : IAsyncDisposable
{
    private readonly string _path;
    private readonly Connection _requests;
    private readonly List<JsonNode> _events = new();
    private readonly SemaphoreSlim _requestLock = new(1, 1);
    private Connection? _subscription;
    private Task? _eventPump;
    private TaskCompletionSource _eventArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ControlClient(string path, Connection requests)
    {
        _path = path;
        _requests = requests;
    }

    public static async Task<ControlClient> ConnectAsync(string path)
    {
        return new ControlClient(path, await Connection.OpenAsync(path).ConfigureAwait(false));
    }

    /// <summary>Sends one request and returns its response; throws if the response is <c>{"ok":false}</c>.</summary>
    public async Task<JsonNode> RequestAsync(JsonObject request)
    {
        await _requestLock.WaitAsync().ConfigureAwait(false);
        try
        {
            string text = request.ToJsonString();
            JsonNode response = await _requests.RoundTripAsync(text, GuestEnvironment.StepTimeout).ConfigureAwait(false);
            if (response["ok"]?.GetValue<bool>() != true)
            {
                throw new InvalidOperationException($"control request {text} failed: {response.ToJsonString()}");
            }

            return response;
        }
        finally
        {
            _requestLock.Release();
        }
    }

    /// <summary>Host drives the input level of a line.</summary>
    public Task SetAsync(int line, int value) =>
        RequestAsync(new JsonObject { ["cmd"] = "set", ["line"] = line, ["value"] = value });

    /// <summary>Host drives a line to <paramref name="value"/> and back after <paramref name="widthMs"/>.</summary>
    public Task PulseAsync(int line, int value, int widthMs) =>
        RequestAsync(new JsonObject { ["cmd"] = "pulse", ["line"] = line, ["value"] = value, ["width_ms"] = widthMs });

    /// <summary>The device's view of one line: <c>{"line":3,"value":1,"direction":"out"}</c>.</summary>
    public Task<JsonNode> GetAsync(int line) =>
        RequestAsync(new JsonObject { ["cmd"] = "get", ["line"] = line });

    /// <summary>The <c>lines</c> array of <c>list</c>.</summary>
    public async Task<JsonArray> ListAsync()
    {
        JsonNode r = await RequestAsync(new JsonObject { ["cmd"] = "list" }).ConfigureAwait(false);
        return r["lines"]!.AsArray();
    }

    /// <summary>Polls <c>list</c> until line <paramref name="line"/> has field <paramref name="field"/> = <paramref name="expected"/>.</summary>
    public async Task WaitForLineFieldAsync(int line, string field, string expected)
    {
        var sw = Stopwatch.StartNew();
        string last = "";
        while (sw.Elapsed < GuestEnvironment.StepTimeout)
        {
            JsonArray lines = await ListAsync().ConfigureAwait(false);
            JsonNode? entry = lines.FirstOrDefault(l => l?["line"]?.GetValue<int>() == line);
            last = entry?.ToJsonString() ?? "(line missing)";
            if (entry?[field]?.ToString() == expected)
            {
                return;
            }

            await Task.Delay(25).ConfigureAwait(false);
        }

        throw new TimeoutException($"line {line}: {field} did not become '{expected}' within {GuestEnvironment.StepTimeout.TotalSeconds:0} s; last: {last}");
    }

    /// <summary>Opens the event connection (<c>{"cmd":"subscribe"}</c>); events are recorded from then on.</summary>
    public async Task SubscribeAsync()
    {
        _subscription = await Connection.OpenAsync(_path).ConfigureAwait(false);
        JsonNode ack = await _subscription.RoundTripAsync("{\"cmd\":\"subscribe\"}", GuestEnvironment.StepTimeout).ConfigureAwait(false);
        if (ack["ok"]?.GetValue<bool>() != true)
        {
            throw new InvalidOperationException("subscribe failed: " + ack.ToJsonString());
        }

        _eventPump = Task.Run(PumpEventsAsync);
    }

    private async Task PumpEventsAsync()
    {
        while (true)
        {
            string? line;
            try
            {
                line = await _subscription!.Reader.ReadLineAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (line is null)
            {
                return;
            }

            JsonNode? node;
            try
            {
                node = JsonNode.Parse(line);
            }
            catch (System.Text.Json.JsonException)
            {
                node = new JsonObject { ["event"] = "unparsable", ["text"] = line };
            }

            if (node is null || node["event"] is null)
            {
                continue;
            }

            TaskCompletionSource signal;
            lock (_events)
            {
                _events.Add(node);
                signal = _eventArrived;
                _eventArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            signal.TrySetResult();
        }
    }

    /// <summary>A snapshot of all events received so far.</summary>
    public IReadOnlyList<JsonNode> Events
    {
        get
        {
            lock (_events)
            {
                return _events.ToArray();
            }
        }
    }

    /// <summary>Number of events so far (use as a mark for <see cref="WaitForEventAsync"/>).</summary>
    public int EventCount
    {
        get
        {
            lock (_events)
            {
                return _events.Count;
            }
        }
    }

    /// <summary>Renders the recorded events, one per line (for failure messages).</summary>
    public string DescribeEvents() => string.Join('\n', Events.Select(e => e.ToJsonString()));

    /// <summary>
    /// Waits for the first event at index <paramref name="from"/> or later that matches; returns it and its index.
    /// Fails with the recorded events on timeout.
    /// </summary>
    public async Task<(JsonNode Event, int Index)> WaitForEventAsync(Func<JsonNode, bool> match, string description, int from = 0)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            Task next;
            lock (_events)
            {
                for (int i = from; i < _events.Count; i++)
                {
                    if (match(_events[i]))
                    {
                        return (_events[i], i);
                    }
                }

                next = _eventArrived.Task;
            }

            TimeSpan left = GuestEnvironment.StepTimeout - sw.Elapsed;
            if (left <= TimeSpan.Zero || await Task.WhenAny(next, Task.Delay(left)).ConfigureAwait(false) != next)
            {
                throw new TimeoutException($"no control event '{description}' within {GuestEnvironment.StepTimeout.TotalSeconds:0} s; events:\n{DescribeEvents()}");
            }
        }
    }

    /// <summary>Matches <c>{"event":"irq","line":N,"status":S}</c>.</summary>
    public static bool IsIrq(JsonNode e, int line, string status) =>
        e["event"]?.ToString() == "irq" && e["line"]?.GetValue<int>() == line && e["status"]?.ToString() == status;

    /// <summary>Matches <c>{"event":"line","line":N,"value":V,"source":"guest"}</c>.</summary>
    public static bool IsGuestLine(JsonNode e, int line, int value) =>
        e["event"]?.ToString() == "line" && e["line"]?.GetValue<int>() == line && e["value"]?.GetValue<int>() == value
        && e["source"]?.ToString() == "guest";

    /// <summary>Matches an event by its name only (connected, disconnected).</summary>
    public static bool IsEvent(JsonNode e, string name) => e["event"]?.ToString() == name;

    public async ValueTask DisposeAsync()
    {
        _requests.Dispose();
        _subscription?.Dispose();
        if (_eventPump is not null)
        {
            await _eventPump.ConfigureAwait(false);
        }

        _requestLock.Dispose();
    }

    private sealed class Connection : IDisposable
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;

        private Connection(Socket socket)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: true);
            Reader = new StreamReader(_stream, new UTF8Encoding(false));
        }

        public StreamReader Reader { get; }

        public static async Task<Connection> OpenAsync(string path)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path)).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            return new Connection(socket);
        }

        public async Task<JsonNode> RoundTripAsync(string request, TimeSpan timeout)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(request + "\n");
            await _stream.WriteAsync(bytes).ConfigureAwait(false);
            using var cts = new CancellationTokenSource(timeout);
            string? line;
            try
            {
                line = await Reader.ReadLineAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no control response to {request} within {timeout.TotalSeconds:0} s");
            }

            return JsonNode.Parse(line ?? throw new IOException($"control socket closed while waiting for the response to {request}"))
                ?? throw new IOException("null response to " + request);
        }

        public void Dispose()
        {
            Reader.Dispose();
            _stream.Dispose();
        }
    }
}
