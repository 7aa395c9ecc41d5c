using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Gateway.Hosting;
using Realtime.Gateway.LifetimeManager;
using Realtime.Grains;
using Realtime.Runtime;

namespace Realtime.Gateway.Internal;

/// <summary>
/// The gateway as grains see it: one observer per process, which hands each delivery or request to the lifetime
/// manager of its hub. Grains hold the reference; calls arrive on any thread, so everything here is thread-safe.
/// </summary>
internal sealed class GatewayReceiver : IGatewayObserver, IBurstAwareObserver
{
    private readonly ConcurrentDictionary<string, ILocalHub> _hubs = new(StringComparer.Ordinal);
    private readonly ILogger<GatewayReceiver> _logger;
    private readonly Lazy<IGatewayObserver> _reference;

    private readonly ServerEvents _serverEvents;
    private readonly Lazy<string?> _url;

    public GatewayReceiver(
        IGrainFactory grains,
        NodeIdentity node,
        ServerEvents serverEvents,
        IOptions<GatewayOptions> options,
        IServiceProvider services,
        ILogger<GatewayReceiver> logger)
    {
        _logger = logger;
        _serverEvents = serverEvents;
        _url = new Lazy<string?>(() => InternalUrl.Resolve(options.Value.InternalUrl, services.GetService<IServer>()));

        // The node name, unique to this process's lifetime: when the node leaves the cluster, grains purge the
        // members recorded under this id, and never those of a restarted successor.
        GatewayId = node.Name;
        _reference = new Lazy<IGatewayObserver>(() => grains.CreateObjectReference<IGatewayObserver>(this));
    }

    public string GatewayId { get; }

    /// <summary>
    /// Where other gateways reach this one, for requests they forward here (see <see cref="GatewayOptions.InternalUrl"/>);
    /// read once Kestrel listens.
    /// </summary>
    public string? Url => _url.Value;

    /// <summary>The reference grains store and call.</summary>
    public IGatewayObserver Reference => _reference.Value;

    public void Register(string hub, ILocalHub localHub)
    {
        _hubs[hub] = localHub;
        GatewayLog.HubRegistered(_logger, GatewayId, hub);
    }

    public Task Deliver(Delivery delivery)
    {
        if (_hubs.TryGetValue(delivery.Hub, out var hub))
        {
            WriteBurst.Open();
            hub.Deliver(delivery);
        }
        else
        {
            GatewayLog.UnknownHub(_logger, delivery.Hub);
        }

        return Task.CompletedTask;
    }

    /// <summary>The runtime's burst of calls is over: every connection writes what it got in it.</summary>
    public void OnCallsDelivered() => WriteBurst.Close();

    public Task ServerEvent(string hub, string eventName, System.Text.Json.JsonElement data, string from)
    {
        _serverEvents.Raise(new ServerEvent(eventName, data, from));
        return Task.CompletedTask;
    }

    public Task RoomClosed(string hub, string roomKey)
    {
        if (_hubs.TryGetValue(hub, out var localHub))
        {
            WriteBurst.Open();
            localHub.RoomClosed(roomKey);
        }

        return Task.CompletedTask;
    }

    public Task<bool> JoinRoom(string hub, string connectionId, string roomKey) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.JoinLocalAsync(connectionId, roomKey) : Task.FromResult(false);

    public Task<bool> LeaveRoom(string hub, string connectionId, string roomKey) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.LeaveLocalAsync(connectionId, roomKey) : Task.FromResult(false);

    public Task<System.Text.Json.JsonElement> InvokeClient(string hub, string connectionId, string method, System.Text.Json.JsonElement[] args, TimeSpan timeout) =>
        _hubs.TryGetValue(hub, out var localHub)
            ? localHub.InvokeClientLocalAsync(connectionId, method, args, timeout)
            : throw new InvalidOperationException($"This gateway does not serve hub {hub}.");

    public Task<bool> Disconnect(string hub, string connectionId) =>
        Task.FromResult(_hubs.TryGetValue(hub, out var localHub) && localHub.DisconnectLocal(connectionId));
}
