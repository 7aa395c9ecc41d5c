using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using Realtime.Client.Hosting;
using Realtime.Client.Streams;
using Realtime.Contracts;

namespace Realtime.Gateway.Cluster;

/// <summary>A server-to-server event, as socket.io's <c>serverSideEmit</c>.</summary>
/// <param name="Name">The event's name.</param>
/// <param name="Data">Its data.</param>
/// <param name="From">The node that sent it.</param>
public sealed record ServerEvent(string Name, JsonElement Data, string From);

/// <summary>
/// Lets code hosted in a gateway hear the server-to-server events that other gateways and services send
/// (<c>IRealtimeCluster.ServerEmitAsync</c>), over the hub's Orleans stream (<see cref="RealtimeStreams.ServerEvents"/>).
/// A gateway never receives its own.
/// </summary>
public interface IServerEvents
{
    /// <summary>Calls <paramref name="handler"/> for every event named <paramref name="eventName"/>; dispose to stop.</summary>
    IDisposable On(string eventName, Func<ServerEvent, Task> handler);
}

/// <summary>
/// The gateway's subscription to its hub's server-event stream, taken once the host has started (and tried again
/// until the cluster answers) and given up when it stops. Orleans' pub-sub keeps it in grain storage, so it outlives
/// any silo, and <see cref="IKeptSubscriptions"/> makes it again if the pub-sub ever drops it.
/// </summary>
internal sealed partial class ServerEvents(
    IClusterClient cluster,
    IKeptSubscriptions subscriptions,
    NodeName node,
    IOptions<RealtimeClientOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<ServerEvents> logger) : BackgroundService, IServerEvents
{
    private readonly ConcurrentDictionary<string, ImmutableHandlers> _handlers = new(StringComparer.Ordinal);

    public IDisposable On(string eventName, Func<ServerEvent, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentNullException.ThrowIfNull(handler);
        _handlers.AddOrUpdate(eventName, _ => new([handler]), (_, list) => new([.. list.Items, handler]));
        return new Subscription(() => _handlers.AddOrUpdate(eventName, _ => new([]), (_, list) => new([.. list.Items.Where(h => h != handler)])));
    }

    private IAsyncDisposable? _subscription;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(started.SetResult))
        {
            await started.Task.WaitAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        var stream = cluster.GetStreamProvider(RealtimeStreams.ProviderName)
            .GetStream<ServerEventMessage>(RealtimeStreams.ServerEventsOf(options.Value.Hub));
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested && _subscription is null)
        {
            try
            {
                _subscription = await subscriptions.SubscribeAsync<ServerEventMessage>(stream, OnNextAsync, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                SubscribeFailed(logger, ex);
                await Task.Delay(delay, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_subscription is { } subscription)
        {
            try
            {
                await subscription.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            }
            catch (Exception ex)
            {
                // Orleans drops a subscription whose client is gone on its own.
                UnsubscribeFailed(logger, ex);
            }
        }
    }

    private Task OnNextAsync(ServerEventMessage message, StreamSequenceToken? token)
    {
        if (message.From != node.Value)
        {
            Raise(new ServerEvent(message.Name, message.Data, message.From));
        }

        return Task.CompletedTask;
    }

    public void Raise(ServerEvent serverEvent)
    {
        if (!_handlers.TryGetValue(serverEvent.Name, out var handlers))
        {
            return;
        }

        foreach (var handler in handlers.Items)
        {
            _ = RunAsync(handler, serverEvent);
        }
    }

    private async Task RunAsync(Func<ServerEvent, Task> handler, ServerEvent serverEvent)
    {
        try
        {
            await handler(serverEvent);
        }
        catch (Exception ex)
        {
            HandlerFailed(logger, serverEvent.Name, ex);
        }
    }

    [LoggerMessage(20, LogLevel.Warning, "A handler of server event {Name} failed.")]
    private static partial void HandlerFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(21, LogLevel.Warning, "Subscribing to the server-event stream failed; trying again.")]
    private static partial void SubscribeFailed(ILogger logger, Exception exception);

    [LoggerMessage(22, LogLevel.Warning, "Giving up the server-event subscription failed.")]
    private static partial void UnsubscribeFailed(ILogger logger, Exception exception);

    private sealed record ImmutableHandlers(Func<ServerEvent, Task>[] Items);

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                dispose();
            }
        }
    }
}
