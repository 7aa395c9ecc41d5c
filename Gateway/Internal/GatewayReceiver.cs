using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Gateway.Hosting;
using Realtime.Grains;

namespace Realtime.Gateway.Internal;

/// <summary>
/// The gateway as grains see it: one Orleans grain observer per process, which hands each delivery or request to the
/// lifetime manager of its hub. Orleans holds observers weakly; this singleton holds the object and the reference
/// for the process's lifetime. Calls arrive on Orleans' threads, so everything here is thread-safe.
/// </summary>
internal sealed class GatewayReceiver : IGatewayObserver
{
    private readonly ConcurrentDictionary<string, ILocalHub> _hubs = new(StringComparer.Ordinal);
    private readonly ILogger<GatewayReceiver> _logger;
    private readonly Lazy<IGatewayObserver> _reference;
    private readonly Lazy<string?> _url;

    public GatewayReceiver(
        IGrainFactory grains,
        GatewayIdentity identity,
        IOptions<GatewayOptions> options,
        IServiceProvider services,
        ILogger<GatewayReceiver> logger)
    {
        _logger = logger;
        _url = new Lazy<string?>(() => InternalUrl.Resolve(options.Value.InternalUrl, services.GetService<IServer>()));
        GatewayId = identity.GatewayId;
        _reference = new Lazy<IGatewayObserver>(() => grains.CreateObjectReference<IGatewayObserver>(this));
    }

    /// <summary>
    /// The gateway's id, unique to this process's lifetime: when the gateway departs, grains drop the members recorded
    /// under this id, and never those of a restarted successor.
    /// </summary>
    public string GatewayId { get; }

    /// <summary>
    /// Where other gateways reach this one, for requests they forward here (see <see cref="GatewayOptions.InternalUrl"/>);
    /// read once Kestrel listens.
    /// </summary>
    public string? Url => _url.Value;

    /// <summary>The reference grains store and call.</summary>
    public IGatewayObserver Reference => _reference.Value;

    /// <summary>The hubs this gateway serves.</summary>
    public ICollection<string> Hubs => _hubs.Keys;

    /// <summary>How this gateway registers with a hub's registry.</summary>
    public GatewayRegistration Registration => new(GatewayId, Reference, Url);

    public void Register(string hub, ILocalHub localHub)
    {
        _hubs[hub] = localHub;
        GatewayLog.HubRegistered(_logger, GatewayId, hub);
    }

    public Task Deliver(Delivery delivery)
    {
        if (_hubs.TryGetValue(delivery.Hub, out var hub))
        {
            hub.Deliver(delivery);
        }
        else
        {
            GatewayLog.UnknownHub(_logger, delivery.Hub);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<Member>> Members(string hub, DeliveryTarget target, string key) =>
        Task.FromResult(_hubs.TryGetValue(hub, out var localHub) ? localHub.Members(target, key) : []);

    public Task<SessionInfo?> Session(string hub, string connectionId) =>
        Task.FromResult(_hubs.TryGetValue(hub, out var localHub) ? localHub.Session(connectionId) : null);

    public Task<bool> JoinRoom(string hub, string connectionId, string roomKey) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.JoinLocalAsync(connectionId, roomKey) : Task.FromResult(false);

    public Task<bool> LeaveRoom(string hub, string connectionId, string roomKey) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.LeaveLocalAsync(connectionId, roomKey) : Task.FromResult(false);

    public Task<JsonElement> InvokeClient(string hub, string connectionId, string method, JsonElement[] args, TimeSpan timeout) =>
        _hubs.TryGetValue(hub, out var localHub)
            ? localHub.InvokeClientLocalAsync(connectionId, method, args, timeout)
            : throw new InvalidOperationException($"This gateway does not serve hub {hub}.");

    public Task<bool> Disconnect(string hub, string connectionId) =>
        Task.FromResult(_hubs.TryGetValue(hub, out var localHub) && localHub.DisconnectLocal(connectionId));

    /// <summary>Closes a local connection of <paramref name="hub"/> telling its client why; false when it is not here.</summary>
    public bool CloseLocal(string hub, string connectionId, string reason) =>
        _hubs.TryGetValue(hub, out var localHub) && localHub.CloseLocal(connectionId, reason);

    public Task<bool> Serves(string hub) => Task.FromResult(_hubs.ContainsKey(hub));

    public Task<GatewayStats> Stats(string hub, int maxRooms) =>
        Task.FromResult(_hubs.TryGetValue(hub, out var localHub) ? localHub.Stats(maxRooms) : new GatewayStats(GatewayId, 0, [], [], false));
}
