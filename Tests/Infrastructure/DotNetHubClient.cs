using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Realtime.Tests.Infrastructure;

/// <summary>
/// The real .NET SignalR client (<see cref="HubConnection"/>), JSON or MessagePack, recording what the server sends
/// to the methods it listens on. Every argument and result is turned into a <see cref="JsonElement"/>, so tests
/// compare what JSON and MessagePack clients got alike.
/// </summary>
public sealed class DotNetHubClient : IAsyncDisposable
{
    private readonly List<ReceivedInvocation> _received = [];
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DotNetHubClient(string name, HubConnection connection)
    {
        Name = name;
        Connection = connection;
        connection.Closed += error =>
        {
            _closed.TrySetResult(error);
            return Task.CompletedTask;
        };
    }

    public string Name { get; }

    public HubConnection Connection { get; }

    /// <summary>Completes when the connection ends for good, with the error that ended it, if any.</summary>
    public Task<Exception?> Closed => _closed.Task;

    public static async Task<DotNetHubClient> ConnectAsync(
        Uri url,
        string name,
        bool messagePack = false,
        Action<IHubConnectionBuilder>? configure = null,
        params string[] methods)
    {
        var builder = new HubConnectionBuilder().WithUrl(url);
        if (messagePack)
        {
            builder.AddMessagePackProtocol();
        }

        configure?.Invoke(builder);
        var client = new DotNetHubClient(name, builder.Build());
        foreach (var method in methods.Length == 0 ? ["event", "roomClosed", "disconnecting"] : methods)
        {
            client.Connection.On(method, [typeof(object)], (args, _) => client.Record(method, args), client);
        }

        await client.Connection.StartAsync().Within($"{name} to connect");
        return client;
    }

    public async Task<JsonElement> InvokeAsync(string method, params object?[] args) =>
        ToElement(await Connection.InvokeCoreAsync(method, typeof(object), args).Within($"{Name}: the result of {method}"));

    public async Task<T> InvokeAsync<T>(string method, params object?[] args) =>
        (await InvokeAsync(method, args)).Deserialize<T>(JsonSerializerOptions.Web)!;

    public IReadOnlyList<ReceivedInvocation> ReceivedOn(string target)
    {
        lock (_received)
        {
            return _received.Where(r => r.Target == target).ToArray();
        }
    }

    /// <summary>Waits until the client has received <paramref name="count"/> invocations on <paramref name="target"/> matching <paramref name="match"/>.</summary>
    public async Task<IReadOnlyList<ReceivedInvocation>> WaitForAsync(string target, Func<ReceivedInvocation, bool>? match = null, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Eventually.DefaultTimeout);
        while (true)
        {
            Task changed;
            lock (_received)
            {
                var found = _received.Where(r => r.Target == target && (match?.Invoke(r) ?? true)).ToArray();
                if (found.Length >= count)
                {
                    return found;
                }

                changed = _changed.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || await Task.WhenAny(changed, Task.Delay(left)) != changed)
            {
                throw new TimeoutException($"{Name} did not receive {count} '{target}' invocation(s) in time; it has {ReceivedOn(target).Count}.");
            }
        }
    }

    /// <summary>Waits for the RealtimeHub's <c>event</c> named <paramref name="eventName"/> and returns its argument.</summary>
    public async Task<JsonElement> WaitForEventAsync(string eventName, TimeSpan? timeout = null) =>
        (await WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == eventName, timeout: timeout))[0].Arguments[0];

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync().AsTask().Within($"{Name} to close", TimeSpan.FromSeconds(30));

    private Task Record(string method, object?[] args)
    {
        lock (_received)
        {
            _received.Add(new ReceivedInvocation(method, args.Select(ToElement).ToArray()));
            _changed.TrySetResult();
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// What a client got, as JSON: the JSON client reads <c>object</c> as a <see cref="JsonElement"/> already; the
    /// MessagePack client reads maps as <c>Dictionary&lt;object, object&gt;</c> and arrays as <c>object[]</c>.
    /// </summary>
    public static JsonElement ToElement(object? value) => JsonSerializer.SerializeToElement(Plain(value), JsonSerializerOptions.Web);

    private static object? Plain(object? value) => value switch
    {
        IDictionary<object, object> map => map.ToDictionary(p => Convert.ToString(p.Key, System.Globalization.CultureInfo.InvariantCulture)!, p => Plain(p.Value)),
        object[] items => items.Select(Plain).ToArray(),
        _ => value,
    };
}
