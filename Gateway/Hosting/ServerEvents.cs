using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Realtime.Gateway.Hosting;

/// <summary>A server-to-server event, as socket.io's <c>serverSideEmit</c>.</summary>
/// <param name="Name">The event's name.</param>
/// <param name="Data">Its data.</param>
/// <param name="From">The node that sent it.</param>
public sealed record ServerEvent(string Name, JsonElement Data, string From);

/// <summary>
/// Lets code hosted in a gateway hear the server-to-server events that other gateways and services send
/// (<c>IRealtimeCluster.ServerEmitAsync</c>). A gateway never receives its own.
/// </summary>
public interface IServerEvents
{
    /// <summary>Calls <paramref name="handler"/> for every event named <paramref name="eventName"/>; dispose to stop.</summary>
    IDisposable On(string eventName, Func<ServerEvent, Task> handler);
}

internal sealed partial class ServerEvents(ILogger<ServerEvents> logger) : IServerEvents
{
    private readonly ConcurrentDictionary<string, ImmutableHandlers> _handlers = new(StringComparer.Ordinal);

    public IDisposable On(string eventName, Func<ServerEvent, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentNullException.ThrowIfNull(handler);
        _handlers.AddOrUpdate(eventName, _ => new([handler]), (_, list) => new([.. list.Items, handler]));
        return new Subscription(() => _handlers.AddOrUpdate(eventName, _ => new([]), (_, list) => new([.. list.Items.Where(h => h != handler)])));
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
