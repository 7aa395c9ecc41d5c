using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Infrastructure;

/// <summary>
/// Real npm <c>socket.io-client</c> sockets, run by a Node process (<c>Tests/SocketIO/node/driver.cjs</c>) that this
/// class drives over its standard input and output. Each socket has a name; everything the sockets receive is
/// recorded, so tests wait on it with a deadline.
/// </summary>
public sealed class SocketIOClients : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _node;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly List<(string Client, string Event, JsonElement Args)> _events = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Text.StringBuilder _errors = new();
    private int _nextId;

    private SocketIOClients(Process node) => _node = node;

    public static async Task<SocketIOClients> StartAsync()
    {
        var start = new ProcessStartInfo("node", Path.Combine(Build.RepositoryRoot, "Tests", "SocketIO", "node", "driver.cjs"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["SOCKET_IO_CLIENT"] = Path.Combine(Build.RepositoryRoot, "Gateway", "node_modules", "socket.io-client");
        var clients = new SocketIOClients(Process.Start(start)!);
        clients._node.OutputDataReceived += (_, e) => clients.OnLine(e.Data);
        clients._node.ErrorDataReceived += (_, e) =>
        {
            lock (clients._errors)
            {
                clients._errors.AppendLine(e.Data);
            }
        };
        clients._node.BeginOutputReadLine();
        clients._node.BeginErrorReadLine();
        await clients._ready.Task.Within("the socket.io client driver to start", CommandTimeout);
        return clients;
    }

    /// <summary>A binary value, as the driver turns it into a Buffer.</summary>
    public static Dictionary<string, string> Binary(byte[] bytes) => new() { ["$binary"] = Convert.ToBase64String(bytes) };

    /// <summary>Connects a socket; the result has <c>id</c> and <c>transport</c>, or <c>error</c> and <c>data</c> when refused.</summary>
    public Task<JsonElement> ConnectAsync(string client, string url, object? options = null) =>
        CommandAsync(new { op = "connect", client, url, options = options ?? new { } });

    public async Task<string> ConnectOrThrowAsync(string client, string url, object? options = null)
    {
        var result = await ConnectAsync(client, url, options);
        return result.TryGetProperty("id", out var id)
            ? id.GetString()!
            : throw new InvalidOperationException($"{client} could not connect to {url}: {result}");
    }

    public Task EmitAsync(string client, string eventName, params object?[] args) => CommandAsync(new { op = "emit", client, @event = eventName, args });

    /// <summary>Emits with a callback and returns the server's acknowledgement arguments.</summary>
    public Task<JsonElement> EmitWithAckAsync(string client, string eventName, params object?[] args) =>
        CommandAsync(new { op = "emit", client, @event = eventName, args, ack = true, timeout = 10000 });

    /// <summary>From now on the socket acknowledges <paramref name="eventName"/> with <paramref name="with"/>.</summary>
    public Task AnswerAsync(string client, string eventName, params object?[] with) => CommandAsync(new { op = "answer", client, @event = eventName, with });

    public async Task<string?> TransportAsync(string client) => (await CommandAsync(new { op = "transport", client })).GetString();

    public Task DisconnectAsync(string client) => CommandAsync(new { op = "disconnect", client });

    /// <summary>Closes the socket's connection from the client's side (its engine), as a lost network; it stays away until <see cref="ReconnectAsync"/>.</summary>
    public Task DropAsync(string client) => CommandAsync(new { op = "drop", client });

    /// <summary>Reconnects a dropped or disconnected socket; the result has <c>id</c> and <c>recovered</c>, or <c>error</c>.</summary>
    public Task<JsonElement> ReconnectAsync(string client) => CommandAsync(new { op = "reconnect", client });

    /// <summary>The socket as socket.io-client sees it: <c>id</c>, <c>connected</c>, <c>recovered</c> and its engine's id.</summary>
    public Task<JsonElement> StateAsync(string client) => CommandAsync(new { op = "state", client });

    /// <summary>The arguments of every <paramref name="eventName"/> the socket received so far.</summary>
    public IReadOnlyList<JsonElement> Received(string client, string eventName)
    {
        lock (_events)
        {
            return [.. _events.Where(e => e.Client == client && e.Event == eventName).Select(e => e.Args)];
        }
    }

    /// <summary>Every event the socket received so far, in order, with its arguments.</summary>
    public IReadOnlyList<(string Event, JsonElement Args)> Received(string client)
    {
        lock (_events)
        {
            return [.. _events.Where(e => e.Client == client).Select(e => (e.Event, e.Args))];
        }
    }

    /// <summary>Waits until the socket received an event whose arguments <paramref name="match"/> accepts, and returns them.</summary>
    public async Task<JsonElement> WaitForAsync(string client, string eventName, Func<JsonElement, bool>? match = null, TimeSpan? timeout = null)
    {
        JsonElement found = default;
        await Eventually.True(
            () =>
            {
                foreach (var args in Received(client, eventName))
                {
                    if (match is null || match(args))
                    {
                        found = args;
                        return true;
                    }
                }

                return false;
            },
            $"{client} to receive {eventName}",
            timeout ?? TimeSpan.FromSeconds(15));
        return found;
    }

    /// <summary>Waits for a <c>my_response</c> (the test page's answer) whose data is <paramref name="data"/>.</summary>
    public Task<JsonElement> WaitForResponseAsync(string client, string data, TimeSpan? timeout = null) =>
        WaitForAsync(client, "my_response", args => args[0].GetProperty("data").GetString() == data, timeout);

    public async ValueTask DisposeAsync()
    {
        try
        {
            _node.StandardInput.Close();
            await _node.WaitForExitAsync().Within("the socket.io client driver to exit", TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException)
        {
            _node.Kill(entireProcessTree: true);
        }

        _node.Dispose();
    }

    private async Task<JsonElement> CommandAsync(object command)
    {
        var id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        var line = JsonSerializer.SerializeToElement(command);
        var withId = JsonSerializer.Serialize(line.EnumerateObject().ToDictionary(p => p.Name, p => p.Value).Append(new("id", JsonSerializer.SerializeToElement(id))).ToDictionary());
        lock (_node)
        {
            _node.StandardInput.WriteLine(withId);
            _node.StandardInput.Flush();
        }

        try
        {
            return await answer.Task.Within($"the socket.io client driver to carry out {withId}", CommandTimeout);
        }
        catch (TimeoutException)
        {
            lock (_errors)
            {
                throw new TimeoutException($"The driver did not answer {withId}. Its errors: {_errors}");
            }
        }
    }

    private void OnLine(string? line)
    {
        if (string.IsNullOrEmpty(line))
        {
            return;
        }

        var message = JsonDocument.Parse(line).RootElement.Clone();
        if (message.TryGetProperty("ready", out _))
        {
            _ready.TrySetResult();
        }
        else if (message.TryGetProperty("id", out var id) && _pending.TryRemove(id.GetInt32(), out var answer))
        {
            if (message.GetProperty("ok").GetBoolean())
            {
                answer.TrySetResult(message.GetProperty("result"));
            }
            else
            {
                answer.TrySetException(new InvalidOperationException(message.GetProperty("error").GetString()));
            }
        }
        else if (message.TryGetProperty("event", out var eventName))
        {
            lock (_events)
            {
                _events.Add((message.GetProperty("client").GetString()!, eventName.GetString()!, message.GetProperty("args")));
            }
        }
    }
}
