using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Gateway.SignalR;

namespace Realtime.Tests.Infrastructure;

/// <summary>A client invocation the server sent: <c>connection.on(target, ...)</c> on a real client.</summary>
public sealed record ReceivedInvocation(string Target, JsonElement[] Arguments);

/// <summary>An error the server returned for an invocation.</summary>
public sealed class HubErrorException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The real .NET SignalR client (<see cref="HubConnection"/>, JSON or MessagePack), recording what the server sends to
/// the methods it listens on. Every argument and result is turned into a <see cref="JsonElement"/>, so tests compare
/// what JSON and MessagePack clients got alike. WebSockets without negotiation by default, as behind a round-robin
/// balancer.
/// </summary>
public sealed class SignalRTestClient : IAsyncDisposable
{
    /// <summary>The client methods a client listens on unless told otherwise: the RealtimeHub's and the test hub's.</summary>
    public static readonly string[] DefaultMethods = ["event", "roomClosed", "disconnecting", "chat", "sendFailed"];

    private readonly TaskCompletionSource<string?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly ReceivedLog _log;

    private SignalRTestClient(string name, HubConnection connection, Uri address)
    {
        Name = name;
        Address = address;
        _log = new ReceivedLog(name);
        Connection = connection;
        connection.Closed += error =>
        {
            _closed.TrySetResult(error?.Message);
            _log.Changed();
            return Task.CompletedTask;
        };
        connection.Reconnecting += error =>
        {
            ReconnectingBecause = error?.Message;
            _log.Changed();
            return Task.CompletedTask;
        };
        connection.Reconnected += _ =>
        {
            Reconnections++;
            _log.Changed();
            return Task.CompletedTask;
        };
    }

    public string Name { get; }

    /// <summary>Where the client connected.</summary>
    public Uri Address { get; }

    public HubConnection Connection { get; }

    /// <summary>Completes when the connection ends for good, with the error that ended it (the server's close reason), if any.</summary>
    public Task<string?> Closed => _closed.Task;

    /// <summary>With automatic reconnect: why the last reconnect began (the server's close reason, when it allowed one).</summary>
    public string? ReconnectingBecause { get; private set; }

    /// <summary>With automatic reconnect: how many times the client has reconnected.</summary>
    public int Reconnections { get; private set; }

    public static async Task<SignalRTestClient> ConnectAsync(
        Uri url,
        string name = "client",
        TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? headers = null,
        bool messagePack = false,
        IRetryPolicy? reconnect = null,
        Action<IHubConnectionBuilder>? configure = null,
        string[]? methods = null)
    {
        var negotiate = url.Scheme is "http" or "https";
        var builder = new HubConnectionBuilder().WithUrl(url, options =>
        {
            options.SkipNegotiation = !negotiate;
            options.Transports = negotiate ? HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling : HttpTransportType.WebSockets;
            foreach (var (header, value) in headers ?? new Dictionary<string, string>())
            {
                options.Headers[header] = value;
            }
        });
        if (messagePack)
        {
            builder.AddMessagePackProtocol();
        }

        if (reconnect is not null)
        {
            builder.WithAutomaticReconnect(reconnect);
        }

        configure?.Invoke(builder);
        var client = new SignalRTestClient(name, builder.Build(), url);
        foreach (var method in methods ?? DefaultMethods)
        {
            client.Connection.On(method, [typeof(object)], (args, state) => ((SignalRTestClient)state).Record(method, args), client);
        }

        try
        {
            await client.Connection.StartAsync().Within($"{name} to connect", timeout);
        }
        catch (Exception ex) when (ex is not TimeoutException)
        {
            await client.Connection.DisposeAsync();
            throw new HubErrorException($"Handshake refused: {ex.Message}", ex);
        }

        return client;
    }

    /// <summary>Invokes a hub method and returns its result; a server error becomes a <see cref="HubErrorException"/>.</summary>
    public async Task<JsonElement> InvokeAsync(string method, params object?[] args)
    {
        try
        {
            return ToElement(await Connection.InvokeCoreAsync(method, typeof(object), args).Within($"{Name}: the result of {method}"));
        }
        catch (HubException ex)
        {
            throw new HubErrorException(ex.Message, ex);
        }
        catch (InvalidOperationException ex) when (Connection.State != HubConnectionState.Connected)
        {
            throw new HubErrorException($"{Name}: the connection closed before the result arrived. ({ex.Message})", ex);
        }
    }

    public async Task<T> InvokeAsync<T>(string method, params object?[] args) =>
        (await InvokeAsync(method, args)).Deserialize<T>(JsonSerializerOptions.Web)!;

    /// <summary>Calls a hub method without waiting for it, as a client's <c>send</c>: the invocation carries no id.</summary>
    public Task SendAsync(string method, params object?[] args) => Connection.SendCoreAsync(method, args);

    /// <summary>
    /// Answers the server's calls to <paramref name="target"/> that wait for a result (SignalR client results), which
    /// come with <paramref name="arity"/> arguments, with what <paramref name="answer"/> returns; an exception it throws
    /// goes back as the client's error. The calls are recorded like any other.
    /// </summary>
    public void Answer(string target, int arity, Func<JsonElement[], object?> answer) =>
        AnswerLater(target, arity, args => Task.FromResult(answer(args)));

    /// <summary>The same, with an answer that may take its time (or never come).</summary>
    public void AnswerLater(string target, int arity, Func<JsonElement[], Task<object?>> answer) =>
        Connection.On(target, Enumerable.Repeat(typeof(object), arity).ToArray(), async (args, _) =>
        {
            await Record(target, args);
            return await answer(args.Select(ToElement).ToArray());
        }, this);

    /// <summary>Everything received so far on <paramref name="target"/>.</summary>
    public IReadOnlyList<ReceivedInvocation> ReceivedOn(string target) => _log.On(target);

    /// <summary>Waits until the client has received <paramref name="count"/> invocations on <paramref name="target"/> matching <paramref name="match"/>.</summary>
    public Task<IReadOnlyList<ReceivedInvocation>> WaitForAsync(string target, Func<ReceivedInvocation, bool>? match = null, int count = 1, TimeSpan? timeout = null) =>
        _log.WaitForAsync(target, match, count, timeout);

    /// <summary>Waits for the RealtimeHub's <c>event</c> named <paramref name="eventName"/> and returns its argument.</summary>
    public async Task<JsonElement> WaitForEventAsync(string eventName, TimeSpan? timeout = null) =>
        (await WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == eventName, timeout: timeout))[0].Arguments[0];

    /// <summary>The event name of <see cref="BarrierAsync"/>'s echo.</summary>
    public const string BarrierEvent = "barrier";

    /// <summary>
    /// A round trip on a RealtimeHub connection (an <c>Echo</c>): everything its gateway wrote to it before has arrived
    /// when this returns.
    /// </summary>
    public async Task BarrierAsync()
    {
        var marker = Guid.NewGuid().ToString("N");
        await InvokeAsync("Echo", BarrierEvent, marker);
        await WaitForAsync("event", e => e.Arguments[0].GetProperty("data").ToString() == marker);
    }

    /// <summary>The 'event' messages of the RealtimeHub received so far, as (event, data-as-text, room) tuples.</summary>
    public IReadOnlyList<(string Event, string Data, string? Room)> Events() => _log.Events();

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync().AsTask().Within($"{Name} to close", TimeSpan.FromSeconds(30));

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

    private Task Record(string method, object?[] args)
    {
        _log.Add(new ReceivedInvocation(method, args.Select(ToElement).ToArray()));
        return Task.CompletedTask;
    }
}

/// <summary>Automatic reconnect that tries at once, then every <paramref name="interval"/>, for a minute.</summary>
public sealed class FixedRetries(TimeSpan interval) : IRetryPolicy
{
    public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
        retryContext.ElapsedTime > TimeSpan.FromMinutes(1) ? null : retryContext.PreviousRetryCount == 0 ? TimeSpan.Zero : interval;
}
