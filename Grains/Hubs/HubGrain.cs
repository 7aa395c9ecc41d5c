using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Realtime.Grains.Internal;

namespace Realtime.Grains.Hubs;

/// <summary>
/// One hub: the registry of the gateways serving it, with their leases, and sends to all of them. The registry is
/// kept in grain storage (<see cref="RealtimeStorage.Name"/>), so that a registry whose silo died comes back with
/// every gateway: grains rebuilding their members ask exactly those.
/// </summary>
/// <remarks>
/// A silo that froze (or was cut off) is declared dead and its registry comes back elsewhere; when it thaws, its old
/// activation runs again until the silo learns it is dead and stops. That activation must not drop gateways: it saw
/// no renewals only because it was not running (or not reachable). So a lease check that runs late moves every lease
/// on by its lateness, and a new activation writes the registry at once, so that the storage's version check refuses
/// any later write of the old one, which then deactivates.
///
/// Renewals can be held up on their way (all calls to this grain wait while the silo that owns its directory entry is
/// frozen and not yet declared dead), so a lease that lapses is not dropped at once: the registry asks the gateway
/// itself (<see cref="IGatewayObserver.Serves"/>), and drops it only when it does not answer that it still serves
/// the hub within <see cref="GatewayLeaseOptions.ProbeTimeout"/>.
/// </remarks>
internal sealed partial class HubGrain(
    [PersistentState("registry", RealtimeStorage.Name)] IPersistentState<HubRegistryState> registry,
    IOptions<GatewayLeaseOptions> options,
    TimeProvider time,
    ILogger<HubGrain> logger) : Grain, IHubGrain
{
    /// <summary>How long a departed gateway is remembered, so that every silo sees it depart.</summary>
    public static readonly TimeSpan DepartedRetention = TimeSpan.FromMinutes(10);

    private readonly Dictionary<string, DateTimeOffset> _leaseEnds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeliveryChain> _chains = new(StringComparer.Ordinal);
    private readonly HashSet<string> _probing = new(StringComparer.Ordinal);
    private readonly GatewayLeaseOptions _options = options.Value;
    private bool _unsaved;
    private long _sequence;
    private DateTimeOffset _lastCheck;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var leaseEnd = now + _options.Timeout;
        foreach (var gatewayId in registry.State.Gateways.Keys)
        {
            _leaseEnds[gatewayId] = leaseEnd;
        }

        _lastCheck = now;
        this.RegisterGrainTimer(CheckLeasesAsync, new GrainTimerCreationOptions(_options.CheckPeriod, _options.CheckPeriod) { KeepAlive = true });
        if (registry.RecordExists)
        {
            // Takes the stored registry over from any earlier activation (see the remarks).
            await SaveAsync();
        }
    }

    public async Task<LeaseStatus> RenewLease(GatewayRegistration gateway)
    {
        var state = registry.State;
        if (state.Departed.ContainsKey(gateway.GatewayId))
        {
            return LeaseStatus.Expired;
        }

        _leaseEnds[gateway.GatewayId] = time.GetUtcNow() + _options.Timeout;
        if (!state.Gateways.TryGetValue(gateway.GatewayId, out var known) || known != gateway)
        {
            state.Gateways[gateway.GatewayId] = gateway;
            _chains.Remove(gateway.GatewayId);
            Changed();
            if (known is null)
            {
                GatewayRegistered(logger, gateway.GatewayId, this.GetPrimaryKeyString());
            }
        }

        if (_unsaved)
        {
            // A registration holds only once stored: a registry that comes back after its silo died must know every
            // gateway that may hold members. Until then the gateway's renewals fail, and it takes no connections.
            await registry.WriteStateAsync();
            _unsaved = false;
        }

        return LeaseStatus.Held;
    }

    public async Task Leave(string gatewayId)
    {
        if (Depart(gatewayId))
        {
            GatewayLeft(logger, gatewayId, this.GetPrimaryKeyString());
            await SaveAsync();
        }
    }

    public async Task<IReadOnlyList<GatewayStats>> GatewayStats(int maxRooms)
    {
        var hub = this.GetPrimaryKeyString();
        return await Task.WhenAll(registry.State.Gateways.Values.ToArray().Select(async gateway =>
        {
            try
            {
                return await gateway.Observer.Stats(hub, maxRooms).WaitAsync(_options.ProbeTimeout);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                return new GatewayStats(gateway.GatewayId, -1, [], [], false);
            }
        }));
    }

    public Task<GatewayView> Gateways()
    {
        var now = time.GetUtcNow();
        var gateways = registry.State.Gateways;
        var live = new GatewayRegistration[gateways.Count];
        var sinceRenewal = new TimeSpan[gateways.Count];
        var i = 0;
        foreach (var (gatewayId, gateway) in gateways)
        {
            live[i] = gateway;
            sinceRenewal[i++] = _leaseEnds.TryGetValue(gatewayId, out var leaseEnd) ? now - (leaseEnd - _options.Timeout) : _options.Timeout;
        }

        return Task.FromResult(new GatewayView(live, [.. registry.State.Departed.Keys], sinceRenewal));
    }

    public Task<string?> GatewayUrl(string gatewayId) =>
        Task.FromResult(registry.State.Gateways.TryGetValue(gatewayId, out var gateway) ? gateway.Url : null);

    public Task<long> Publish(Publication publication)
    {
        var hub = this.GetPrimaryKeyString();
        var delivery = new Delivery(hub, DeliveryTarget.Hub, hub, ++_sequence, publication.Payload, publication.Except, publication.Rooms);
        foreach (var (gatewayId, gateway) in registry.State.Gateways)
        {
            if (!_chains.TryGetValue(gatewayId, out var chain))
            {
                chain = new DeliveryChain(gateway.Observer);
                _chains.Add(gatewayId, chain);
            }

            chain.Send(delivery);
        }

        return Task.FromResult(delivery.Sequence);
    }

    private async Task CheckLeasesAsync()
    {
        var now = time.GetUtcNow();
        var late = now - _lastCheck - _options.CheckPeriod;
        _lastCheck = now;
        if (late > _options.CheckPeriod)
        {
            // This activation was not running (a frozen or starved silo): nobody's renewals could reach it.
            ChecksLate(logger, this.GetPrimaryKeyString(), late);
            foreach (var gatewayId in _leaseEnds.Keys.ToList())
            {
                _leaseEnds[gatewayId] += late;
            }
        }

        foreach (var (gatewayId, leaseEnd) in _leaseEnds)
        {
            if (leaseEnd < now && registry.State.Gateways.TryGetValue(gatewayId, out var gateway) && _probing.Add(gatewayId))
            {
                _ = ProbeAsync(gatewayId, gateway);
            }
        }

        foreach (var (gatewayId, departed) in registry.State.Departed)
        {
            if (now - departed > DepartedRetention)
            {
                registry.State.Departed.Remove(gatewayId);
                Changed();
            }
        }

        if (_unsaved)
        {
            await SaveAsync();
        }
    }

    /// <summary>Asks a gateway whose lease lapsed whether it still serves this hub: renews its lease if so, drops it if not.</summary>
    private async Task ProbeAsync(string gatewayId, GatewayRegistration gateway)
    {
        var hub = this.GetPrimaryKeyString();
        bool serves;
        try
        {
            serves = await gateway.Observer.Serves(hub).WaitAsync(_options.ProbeTimeout);
        }
        catch (Exception)
        {
            // Gone, cut off or too slow: all the same to its members' other gateways.
            serves = false;
        }

        _probing.Remove(gatewayId);
        var now = time.GetUtcNow();
        if (!_leaseEnds.TryGetValue(gatewayId, out var leaseEnd) || leaseEnd >= now)
        {
            // Renewed, or departed, while the probe was out.
            return;
        }

        if (serves)
        {
            LeaseKeptByProbe(logger, gatewayId, hub);
            _leaseEnds[gatewayId] = now + _options.Timeout;
            return;
        }

        if (Depart(gatewayId))
        {
            LeaseExpired(logger, gatewayId, hub);
            await SaveAsync();
        }
    }

    private bool Depart(string gatewayId)
    {
        _leaseEnds.Remove(gatewayId);
        _chains.Remove(gatewayId);
        if (!registry.State.Gateways.Remove(gatewayId))
        {
            return false;
        }

        registry.State.Departed[gatewayId] = time.GetUtcNow();
        Changed();
        return true;
    }

    private void Changed() => _unsaved = true;

    /// <summary>
    /// Writes the registry. A failed write (storage unreachable) is tried again at the next lease check; until then
    /// this activation goes on with what it knows. A write refused because another activation wrote since means this
    /// one is stale: it deactivates.
    /// </summary>
    private async Task SaveAsync()
    {
        try
        {
            await registry.WriteStateAsync();
            _unsaved = false;
        }
        catch (InconsistentStateException ex)
        {
            Superseded(logger, this.GetPrimaryKeyString(), ex);
            _leaseEnds.Clear();
            _chains.Clear();
            this.DeactivateOnIdle();
        }
        catch (Exception ex)
        {
            SaveFailed(logger, this.GetPrimaryKeyString(), ex);
        }
    }

    [LoggerMessage(111, LogLevel.Information, "Gateway {GatewayId} registered with hub {Hub}.")]
    private static partial void GatewayRegistered(ILogger logger, string gatewayId, string hub);

    [LoggerMessage(112, LogLevel.Information, "Gateway {GatewayId} left hub {Hub}.")]
    private static partial void GatewayLeft(ILogger logger, string gatewayId, string hub);

    [LoggerMessage(113, LogLevel.Warning, "The lease of gateway {GatewayId} on hub {Hub} ran out and the gateway did not answer: its members are dropped everywhere.")]
    private static partial void LeaseExpired(ILogger logger, string gatewayId, string hub);

    [LoggerMessage(114, LogLevel.Warning, "Saving the gateway registry of hub {Hub} failed; it is tried again at the next lease check.")]
    private static partial void SaveFailed(ILogger logger, string hub, Exception exception);

    [LoggerMessage(115, LogLevel.Warning, "The gateway registry of hub {Hub} was written by a newer activation; this one deactivates.")]
    private static partial void Superseded(ILogger logger, string hub, Exception exception);

    [LoggerMessage(116, LogLevel.Warning, "The lease check of hub {Hub} ran {Late} late (was the silo frozen?); every lease moves on by as much.")]
    private static partial void ChecksLate(ILogger logger, string hub, TimeSpan late);

    [LoggerMessage(117, LogLevel.Warning, "No renewal of gateway {GatewayId} reached hub {Hub} within its lease, but the gateway answered that it serves the hub: its lease goes on.")]
    private static partial void LeaseKeptByProbe(ILogger logger, string gatewayId, string hub);
}
