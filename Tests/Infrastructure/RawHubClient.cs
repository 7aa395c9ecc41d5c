using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Realtime.Gateway.SignalR;

namespace Realtime.Tests.Infrastructure;

/// <summary>
/// A SignalR client of our own, for the tests that must send what no real client sends: malformed frames, unknown
/// methods, wrong arguments. It speaks the JSON hub protocol (handshake, invocations with ids, completions, pings,
/// close) over a real <see cref="ClientWebSocket"/>, without negotiation. Every other test uses the real .NET client
/// (<see cref="SignalRTestClient"/>).
/// </summary>
public sealed class RawHubClient : IAsyncDisposable
{
    private const byte RecordSeparator = 0x1e;

    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource<string?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Func<JsonElement[], object?>> _answers = new();
    private int _nextInvocationId;
    private Task? _receiveLoop;
    private Task? _pingLoop;

    private readonly ReceivedLog _log;
    private readonly SemaphoreSlim _reading = new(1, 1);

    private RawHubClient(string name)
    {
        Name = name;
        _log = new ReceivedLog(name);
    }

    public string Name { get; }

    /// <summary>Whether the server's close message invited the client to reconnect.</summary>
    public bool CloseAllowsReconnect { get; private set; }

    /// <summary>Completes when the connection ends, with the server's close error if it sent one.</summary>
    public Task<string?> Closed => _closed.Task;

    public static async Task<RawHubClient> ConnectAsync(Uri url, string name = "client", TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var client = new RawHubClient(name);
        foreach (var (header, value) in headers ?? new Dictionary<string, string>())
        {
            client._socket.Options.SetRequestHeader(header, value);
        }

        using var cts = new CancellationTokenSource(timeout ?? Eventually.DefaultTimeout);
        await client._socket.ConnectAsync(url, cts.Token);
        await client.SendFrameAsync("""{"protocol":"json","version":1}""");
        var handshake = await client.ReadFrameAsync(cts.Token) ?? throw new InvalidOperationException("The server closed the connection during the handshake.");
        using (var document = JsonDocument.Parse(handshake))
        {
            if (document.RootElement.TryGetProperty("error", out var error))
            {
                throw new HubErrorException($"Handshake refused: {error.GetString()}");
            }
        }

        client._receiveLoop = Task.Run(client.ReceiveLoopAsync);
        client._pingLoop = Task.Run(client.PingLoopAsync);
        return client;
    }

    /// <summary>Invokes a hub method and returns its result; a server error becomes a <see cref="HubErrorException"/>.</summary>
    public async Task<JsonElement> InvokeAsync(string method, params object?[] args)
    {
        var id = "c" + Interlocked.Increment(ref _nextInvocationId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var completion = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = completion;
        await SendFrameAsync(JsonSerializer.Serialize(new { type = 1, invocationId = id, target = method, arguments = args }));
        return await completion.Task.Within($"{Name}: the result of {method}");
    }

    public async Task<T> InvokeAsync<T>(string method, params object?[] args) =>
        (await InvokeAsync(method, args)).Deserialize<T>(JsonOptions)!;

    /// <summary>
    /// Answers the server's calls to <paramref name="target"/> that wait for a result (SignalR client results) with
    /// what <paramref name="answer"/> returns; an exception it throws goes back as the client's error.
    /// </summary>
    public void Answer(string target, Func<JsonElement[], object?> answer) => _answers[target] = answer;

    /// <summary>Calls a hub method without waiting for it, as a client's <c>send</c>: the invocation carries no id.</summary>
    public Task SendAsync(string method, params object?[] args) =>
        SendFrameAsync(JsonSerializer.Serialize(new { type = 1, target = method, arguments = args }));

    /// <summary>
    /// Stops reading from the socket, as a client that hangs: what the server writes piles up in the network's buffers
    /// and then in the server's. The connection stays open.
    /// </summary>
    public Task StopReadingAsync() => _reading.WaitAsync();

    /// <summary>Sends a raw frame (a record separator is appended): for malformed-input tests.</summary>
    public Task SendRawAsync(string frame) => SendFrameAsync(frame);

    /// <summary>Sends a raw frame and waits for the completion the server sends for <paramref name="invocationId"/>.</summary>
    public async Task<JsonElement> InvokeRawAsync(string frame, string invocationId)
    {
        var completion = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[invocationId] = completion;
        await SendFrameAsync(frame);
        return await completion.Task.Within($"{Name}: the answer to raw invocation {invocationId}");
    }

    /// <summary>Everything received so far on <paramref name="target"/>.</summary>
    public IReadOnlyList<ReceivedInvocation> ReceivedOn(string target) => _log.On(target);

    /// <summary>Waits until the client has received <paramref name="count"/> invocations on <paramref name="target"/> matching <paramref name="match"/>.</summary>
    public Task<IReadOnlyList<ReceivedInvocation>> WaitForAsync(string target, Func<ReceivedInvocation, bool>? match = null, int count = 1, TimeSpan? timeout = null) =>
        _log.WaitForAsync(target, match, count, timeout);

    /// <summary>The 'event' messages of the RealtimeHub received so far, as (event, data-as-text, room) tuples.</summary>
    public IReadOnlyList<(string Event, string Data, string? Room)> Events() => _log.Events();

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // Already going away.
            }
        }

        foreach (var loop in new[] { _receiveLoop, _pingLoop })
        {
            if (loop is not null)
            {
                await Task.WhenAny(loop, Task.Delay(TimeSpan.FromSeconds(2)));
            }
        }

        _socket.Dispose();
        _stop.Dispose();
    }

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private async Task SendFrameAsync(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json + (char)RecordSeparator);
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private readonly ArrayBufferWriter<byte> _buffer = new();

    /// <summary>Reads the next record-separated frame, or null when the socket closed.</summary>
    private async Task<string?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var span = _buffer.WrittenSpan;
            var end = span.IndexOf(RecordSeparator);
            if (end >= 0)
            {
                var frame = Encoding.UTF8.GetString(span[..end]);
                var rest = span[(end + 1)..].ToArray();
                _buffer.Clear();
                _buffer.Write(rest);
                return frame;
            }

            var memory = _buffer.GetMemory(8192);
            var result = await _socket.ReceiveAsync(memory, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            _buffer.Advance(result.Count);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        string? closeError = null;
        try
        {
            while (await ReadFrameAsync(_stop.Token) is { } frame)
            {
                await _reading.WaitAsync(_stop.Token);
                _reading.Release();
                using var document = JsonDocument.Parse(frame);
                var root = document.RootElement;
                switch (root.GetProperty("type").GetInt32())
                {
                    case 1:
                        var arguments = root.GetProperty("arguments").EnumerateArray().Select(a => a.Clone()).ToArray();
                        var target = root.GetProperty("target").GetString()!;
                        _log.Add(new ReceivedInvocation(target, arguments));

                        if (root.TryGetProperty("invocationId", out var invocationId) && _answers.TryGetValue(target, out var answer))
                        {
                            _ = AnswerAsync(invocationId.GetString()!, answer, arguments);
                        }

                        break;
                    case 3:
                        if (_pending.TryRemove(root.GetProperty("invocationId").GetString()!, out var completion))
                        {
                            if (root.TryGetProperty("error", out var error))
                            {
                                completion.TrySetException(new HubErrorException(error.GetString()!));
                            }
                            else
                            {
                                completion.TrySetResult(root.TryGetProperty("result", out var result) ? result.Clone() : default);
                            }
                        }

                        break;
                    case 7:
                        closeError = root.TryGetProperty("error", out var reason) ? reason.GetString() : null;
                        CloseAllowsReconnect = root.TryGetProperty("allowReconnect", out var reconnect) && reconnect.GetBoolean();
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection ended.
        }
        finally
        {
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new HubErrorException($"{Name}: the connection closed before the result arrived."));
            }

            _closed.TrySetResult(closeError);
            _log.Changed();
        }
    }

    private async Task AnswerAsync(string invocationId, Func<JsonElement[], object?> answer, JsonElement[] arguments)
    {
        object completion;
        try
        {
            completion = new { type = 3, invocationId, result = answer(arguments) };
        }
        catch (Exception ex)
        {
            completion = new { type = 3, invocationId, error = ex.Message };
        }

        await SendFrameAsync(JsonSerializer.Serialize(completion));
    }

    private async Task PingLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(10), _stop.Token);
                await SendFrameAsync("""{"type":6}""");
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection ended.
        }
    }
}
