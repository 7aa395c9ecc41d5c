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
/// <remarks>
/// Sends are numbered in the activation's epoch, as a room's are: an activation that comes back asks each gateway
/// what it applied of the previous one and what it sent lately (<see cref="IGatewayService.GroupState"/>), and sends
/// each gateway first what it missed of the sends that the previous activation answered for (see
/// <see cref="MemberGroupGrain"/>'s remarks; a gateway keeps its hub sends only while every silo says version 4).
/// </remarks>
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
    private readonly string _epoch = Epochs.New();
    private string _hub = "";
    private long _sequence;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _hub = this.GetPrimaryKeyString();
        var answers = await GatewayQuery.AskAllAsync(gateways, AskAsync, cluster.Value.RebuildTimeout, $"Hub {_hub}");
        foreach (var (gatewayId, _) in answers)
        {
            if (gatewayId is not null)
            {
                Add(gatewayId);
            }
        }

        SendMissedAgain(answers);

        // Each gateway learns the new epoch before any send of it (see MemberGroupGrain.OnActivateAsync).
        var started = new Delivery(_hub, DeliveryTarget.Hub, _hub, _sequence, null, null, Kind: DeliveryKind.Started, Epoch: _epoch);
        foreach (var (_, chain) in _gateways)
        {
            chain.Send(started);
        }

        DelayDeactivation(TimeSpan.MaxValue);
    }

    /// <summary>Whether a gateway serves the hub, and what it applied and sent of the hub's sends (a gateway of version 4 or later).</summary>
    private async Task<(string? GatewayId, GatewayGroupState? State)> AskAsync(IGatewayService gateway, SiloAddress silo)
    {
        var serving = gateway.Serving(_hub);
        var state = gateways.Reads(silo, PayloadForms.HubSendsVersion) ? await gateway.GroupState(_hub, DeliveryTarget.Hub, _hub) : null;
        return (await serving, state);
    }

    /// <summary>
    /// Sends each gateway that serves the hub, before anything else, what it missed of the sends that the previous
    /// activation answered for and other gateways kept (see <see cref="MemberGroupGrain"/>).
    /// </summary>
    private void SendMissedAgain(List<(string? GatewayId, GatewayGroupState? State)> answers)
    {
        if (Epochs.AllSent(answers.Select(a => a.State).OfType<GatewayGroupState>()) is not { } sent)
        {
            return;
        }

        foreach (var (gatewayId, state) in answers)
        {
            if (gatewayId is null || state?.Applied is not { } applied || !_gateways.TryGetValue(gatewayId, out var chain))
            {
                continue;
            }

            var missed = Epochs.MissedBy(sent, applied, _hub, DeliveryTarget.Hub, _hub);
            foreach (var delivery in missed)
            {
                chain.Send(delivery);
            }

            if (missed.Count > 0)
            {
                SentAgain(logger, _hub, missed.Count, applied.Epoch, gatewayId);
            }
        }
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

    public Task<long> Publish(Publication publication) => Task.FromResult(Stamp(publication));

    public Task<GroupPosition> Send(Publication publication) => Task.FromResult(new GroupPosition(_epoch, Stamp(publication)));

    /// <summary>Numbers the publication and sends it to every gateway of the hub; returns its sequence number.</summary>
    private long Stamp(Publication publication)
    {
        var delivery = new Delivery(_hub, DeliveryTarget.Hub, _hub, ++_sequence, publication.Payload, publication.Except, publication.Rooms, Epoch: _epoch);
        foreach (var (_, chain) in _gateways)
        {
            chain.Send(delivery);
        }

        return delivery.Sequence;
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

    [LoggerMessage(113, LogLevel.Information, "Hub {Hub} came back and sent {Count} send(s) of its previous activation ({Epoch}) again to gateway {GatewayId}, which had not had them.")]
    private static partial void SentAgain(ILogger logger, string hub, int count, string epoch, string gatewayId);

    [LoggerMessage(112, LogLevel.Information, "Gateway {GatewayId} left hub {Hub}.")]
    private static partial void GatewayLeft(ILogger logger, string gatewayId, string hub);
}
