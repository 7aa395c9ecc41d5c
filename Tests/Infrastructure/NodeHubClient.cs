using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Infrastructure;

/// <summary>
/// One npm <c>@microsoft/signalr</c> connection in Node, JSON or MessagePack, run by
/// <c>Tests/Gateway/node/signalr-driver.cjs</c>, which this class drives over its standard input and output.
/// </summary>
public sealed class NodeHubClient : IAsyncDisposable
{
    private readonly Process _node;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly ReceivedLog _log;
    private readonly TaskCompletionSource<JsonElement> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringBuilder _errors = new();
    private int _nextId;

    private NodeHubClient(string name, Process node)
    {
        Name = name;
        _node = node;
        _log = new ReceivedLog(name);
    }

    public string Name { get; }

    public string ConnectionId { get; private set; } = "";

    public static async Task<NodeHubClient> ConnectAsync(Uri url, string name, bool messagePack)
    {
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { Path.Combine(Build.RepositoryRoot, "Tests", "Gateway", "node", "signalr-driver.cjs"), url.ToString(), messagePack ? "messagepack" : "json" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["SIGNALR_MODULES"] = Path.Combine(Build.RepositoryRoot, "Gateway", "node_modules");
        var client = new NodeHubClient(name, Process.Start(start)!);
        client._node.OutputDataReceived += (_, e) => client.OnLine(e.Data);
        client._node.ErrorDataReceived += (_, e) =>
        {
            lock (client._errors)
            {
                client._errors.AppendLine(e.Data);
            }
        };
        client._node.BeginOutputReadLine();
        client._node.BeginErrorReadLine();
        var connected = await client._connected.Task.Within($"{name} (Node) to connect", TimeSpan.FromSeconds(20));
        client.ConnectionId = connected.GetProperty("connected").GetBoolean()
            ? connected.GetProperty("connectionId").GetString()!
            : throw new InvalidOperationException($"{name} could not connect: {connected} {client._errors}");
        return client;
    }

    public async Task<JsonElement> InvokeAsync(string method, params object?[] args)
    {
        var id = Interlocked.Increment(ref _nextId);
        var result = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = result;
        await _node.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new { id, method, args })).Within($"{Name}: the command {method}");
        await _node.StandardInput.FlushAsync().Within($"{Name}: the command {method}");
        var answer = await result.Task.Within($"{Name}: the result of {method}", TimeSpan.FromSeconds(20));
        return answer.TryGetProperty("error", out var error)
            ? throw new HubErrorException(error.GetString()!)
            : answer.GetProperty("result");
    }

    public async Task<JsonElement> WaitForEventAsync(string eventName, TimeSpan? timeout = null) =>
        (await _log.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == eventName, timeout: timeout))[0].Arguments[0];

    public async ValueTask DisposeAsync()
    {
        if (!_node.HasExited)
        {
            _node.StandardInput.Close();
            if (!_node.WaitForExit(5000))
            {
                _node.Kill(entireProcessTree: true);
            }
        }

        _node.Dispose();
        await Task.CompletedTask;
    }

    private void OnLine(string? line)
    {
        if (string.IsNullOrEmpty(line))
        {
            return;
        }

        var message = JsonDocument.Parse(line).RootElement.Clone();
        if (message.TryGetProperty("connected", out _))
        {
            _connected.TrySetResult(message);
        }
        else if (message.TryGetProperty("id", out var id) && _pending.TryRemove(id.GetInt32(), out var pending))
        {
            pending.TrySetResult(message);
        }
        else if (message.TryGetProperty("method", out var method))
        {
            _log.Add(new ReceivedInvocation(method.GetString()!, message.GetProperty("args").EnumerateArray().ToArray()));
        }
    }
}
