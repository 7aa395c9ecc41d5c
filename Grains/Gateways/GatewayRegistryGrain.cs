using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;
using Realtime.Grains.Groups;

namespace Realtime.Grains.Gateways;

/// <summary>
/// One hub: the gateways serving it, and sends to all of them. Like a room's members, the list is soft state that the
/// gateways hold: a gateway registers when it makes the hub's lifetime manager, leaves with its silo (the silo's
/// <see cref="DepartedGatewayMonitor"/> tells this grain), and an activation that comes back after its silo died asks
/// every gateway of the cluster whether it serves the hub before it answers anything.
/// </summary>
// The grain type keeps its name from before the rename ("hub"), so that silos of both versions share one activation.
[GrainType("hub")]
[RolePlacement]
[Immovable(ImmovableKind.Repartitioner)] // it talks to every gateway alike: no silo is nearer
internal sealed partial class GatewayRegistryGrain(
    GatewayDependents dependents,
    GatewayDirectory gateways,
    IOptions<RealtimeClusterOptions> cluster,
    ILogger<GatewayRegistryGrain> logger) : Grain, IGatewayRegistryGrain
{
    private readonly Dictionary<string, DeliveryChain> _gateways = new(StringComparer.Ordinal);
    private string _hub = "";
    private long _sequence;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _hub = this.GetPrimaryKeyString();
        var serving = await GatewayQuery.AskAllAsync(gateways, gateway => gateway.Serving(_hub), cluster.Value.RebuildTimeout, $"Hub {_hub}");
        foreach (var gatewayId in serving)
        {
            if (gatewayId is not null)
            {
                Add(gatewayId);
            }
        }

        DelayDeactivation(TimeSpan.MaxValue);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        foreach (var gatewayId in _gateways.Keys)
        {
            dependents.Remove(_hub, gatewayId, GrainContext.GrainId);
        }

        return Task.CompletedTask;
    }

    public Task Register(string gatewayId)
    {
        if (Add(gatewayId))
        {
            GatewayRegistered(logger, gatewayId, _hub);
        }

        return Task.CompletedTask;
    }

    public Task GatewaysDeparted(IReadOnlyList<string> gatewayIds)
    {
        foreach (var gatewayId in gatewayIds)
        {
            if (_gateways.Remove(gatewayId))
            {
                GatewayLeft(logger, gatewayId, _hub);
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> Gateways() => Task.FromResult<IReadOnlyList<string>>([.. _gateways.Keys]);

    public async Task<IReadOnlyList<GatewayStats>> GatewayStats(int maxRooms)
    {
        var timeout = cluster.Value.RebuildTimeout;
        return await Task.WhenAll(_gateways.Keys.ToArray().Select(async gatewayId =>
        {
            try
            {
                return await gateways.Of(gatewayId).Stats(_hub, maxRooms).WaitAsync(timeout);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                return new GatewayStats(gatewayId, -1, [], [], false);
            }
        }));
    }

    public Task<long> Publish(Publication publication)
    {
        var delivery = new Delivery(_hub, DeliveryTarget.Hub, _hub, ++_sequence, publication.Payload, publication.Except, publication.Rooms);
        foreach (var (_, chain) in _gateways)
        {
            chain.Send(delivery);
        }

        return Task.FromResult(delivery.Sequence);
    }

    private bool Add(string gatewayId)
    {
        if (_gateways.ContainsKey(gatewayId))
        {
            return false;
        }

        _gateways.Add(gatewayId, new DeliveryChain(gateways, gatewayId));
        dependents.Add(_hub, gatewayId, GrainContext.GrainId);
        return true;
    }

    [LoggerMessage(111, LogLevel.Information, "Gateway {GatewayId} serves hub {Hub}.")]
    private static partial void GatewayRegistered(ILogger logger, string gatewayId, string hub);

    [LoggerMessage(112, LogLevel.Information, "Gateway {GatewayId} left hub {Hub}.")]
    private static partial void GatewayLeft(ILogger logger, string gatewayId, string hub);
}
