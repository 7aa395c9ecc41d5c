using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Options;
using Realtime.Contracts;
using Realtime.Gateway.Http;
using Realtime.Gateway.Observability;
using Realtime.Grains.Gateways;

namespace Realtime.Gateway.Core;

/// <summary>
/// The gateway as its silo's <see cref="IGatewayService"/> sees it: hands each delivery or request to the delivery
/// core of its hub (<see cref="LocalHub{THub}"/>). Calls arrive on Orleans' threads, so everything here is thread-safe.
/// </summary>
internal sealed class GatewayReceiver : ILocalGateway
{
    /// <summary>How long to wait before telling a hub grain again that this gateway serves it, after it failed.</summary>
    private static readonly TimeSpan RegistrationRetry = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, ILocalHub> _hubs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _registrations = new(StringComparer.Ordinal);
    private readonly IGrainFactory _grains;
    private readonly ILogger<GatewayReceiver> _logger;
    private readonly Lazy<string?> _url;
    private readonly CancellationToken _stopping;
    private bool _started; // the host has started: hubs register with their grains as soon as they are added

    public GatewayReceiver(
        IGrainFactory grains,
        GatewayIdentity identity,
        IOptions<GatewayOptions> options,
        IServiceProvider services,
        IHostApplicationLifetime lifetime,
        ILogger<GatewayReceiver> logger)
    {
        _grains = grains;
        _logger = logger;
        _stopping = lifetime.ApplicationStopping;
        lifetime.ApplicationStarted.Register(RegisterHubs);
        _time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        _url = new Lazy<string?>(() => InternalUrl.Resolve(options.Value.InternalUrl, services.GetService<IServer>()));
        GatewayId = identity.GatewayId;
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

    /// <summary>The hubs this gateway serves.</summary>
    public ICollection<string> Hubs => _hubs.Keys;

    public void Register(string hub, ILocalHub localHub)
    {
        _hubs[hub] = localHub;
        GatewayLog.HubRegistered(_logger, GatewayId, hub);
        if (Volatile.Read(ref _started))
        {
            _ = EnsureRegisteredAsync(hub);
        }
    }

    /// <summary>
    /// Once the host has started (the silo is in the cluster), every hub registers with its grain at once, rather than
    /// on its first connection: that connection would otherwise wait for the hub's grain to come up.
    /// </summary>
    private void RegisterHubs()
    {
        Volatile.Write(ref _started, true);
        foreach (var hub in _hubs.Keys)
        {
            _ = EnsureRegisteredAsync(hub);
        }
    }

    /// <summary>Whether every hub this gateway serves is registered with its grain (the readiness probe waits for it).</summary>
    public bool HubsRegistered
    {
        get
        {
            foreach (var hub in _hubs.Keys)
            {
                if (!_registrations.TryGetValue(hub, out var registration) || !registration.IsCompletedSuccessfully)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// Completes once the hub's grain knows this gateway serves it, so that sends to the whole hub reach it; tried again
    /// until it succeeds. A hub grain that comes back after its silo died asks the gateways itself.
    /// </summary>
    public Task EnsureRegisteredAsync(string hub) => _registrations.GetOrAdd(hub, RegisterWithHubAsync);

    private async Task RegisterWithHubAsync(string hub)
    {
        while (true)
        {
            try
            {
                await _grains.GetGrain<IGatewayRegistryGrain>(hub).Register(GatewayId);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !_stopping.IsCancellationRequested)
            {
                GatewayLog.HubRegistrationFailed(_logger, hub, ex);
                await Task.Delay(RegistrationRetry, _time, _stopping);
            }
        }
    }

    public void Deliver(Delivery delivery)
    {
        if (_hubs.TryGetValue(delivery.Hub, out var hub))
        {
            hub.Deliver(delivery);
        }
        else
        {
            GatewayLog.UnknownHub(_logger, delivery.Hub);
        }
    }

    public IReadOnlyList<Member> Members(string hub, DeliveryTarget target, string key) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.Members(target, key) : [];

    public GatewayGroupState GroupState(string hub, DeliveryTarget target, string key) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.GroupState(target, key) : new GatewayGroupState([], null, []);

    public SessionInfo? Session(string hub, string connectionId) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.Session(connectionId) : null;

    public IReadOnlyList<SessionInfo> Sessions(string hub, IReadOnlyList<string> connectionIds) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.Sessions(connectionIds) : [];

    public Task<int> Act(string hub, IReadOnlyList<string> connectionIds, ConnectionAction action) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.ActLocalAsync(connectionIds, action) : Task.FromResult(0);

    public Task<IReadOnlyList<JsonElement>> InvokeClients(string hub, IReadOnlyList<string> connectionIds, string method, JsonElement[] args, TimeSpan timeout) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.InvokeClientsLocalAsync(connectionIds, method, args, timeout) : Task.FromResult<IReadOnlyList<JsonElement>>([]);

    public Task<bool> JoinRoom(string hub, string connectionId, string roomKey) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.JoinLocalAsync(connectionId, roomKey) : Task.FromResult(false);

    public Task<bool> LeaveRoom(string hub, string connectionId, string roomKey) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.LeaveLocalAsync(connectionId, roomKey) : Task.FromResult(false);

    public Task<JsonElement> InvokeClient(string hub, string connectionId, string method, JsonElement[] args, TimeSpan timeout) =>
        _hubs.TryGetValue(hub, out var localHub)
            ? localHub.InvokeClientLocalAsync(connectionId, method, args, timeout)
            : throw new InvalidOperationException($"This gateway does not serve hub {hub}.");

    public bool Disconnect(string hub, string connectionId) => _hubs.TryGetValue(hub, out var localHub) && localHub.DisconnectLocal(connectionId);

    /// <summary>Closes a local connection of <paramref name="hub"/> telling its client why; false when it is not here.</summary>
    public bool CloseLocal(string hub, string connectionId, string reason) =>
        _hubs.TryGetValue(hub, out var localHub) && localHub.CloseLocal(connectionId, reason);

    public string? Serving(string hub) => _hubs.ContainsKey(hub) ? GatewayId : null;

    public GatewayStats Stats(string hub, int maxRooms) =>
        _hubs.TryGetValue(hub, out var localHub) ? localHub.Stats(maxRooms) : new GatewayStats(GatewayId, 0, [], [], false);
}
