using Orleans.Concurrency;

namespace Realtime.Contracts;

/// <summary>
/// A hub (key: the hub's name): the gateways that serve it, and sends to all of them. Gateways are silos: one is among
/// the hub's gateways from when it registers (it made the hub's lifetime manager) until the cluster's membership says
/// its silo left or died. The list is soft state, like a room's members: a hub grain that comes back after its silo
/// died asks the cluster's gateways whether they serve the hub.
/// </summary>
[Alias("realtime.hub")]
public interface IGatewayRegistryGrain : IGatewayDependentGrain
{
    /// <summary>The gateway serves the hub from now on.</summary>
    [Alias("register")]
    Task Register(string gatewayId);

    /// <summary>The ids of the gateways that serve the hub.</summary>
    [ReadOnly, Alias("gateways")]
    Task<IReadOnlyList<string>> Gateways();

    /// <summary>Each gateway that serves the hub, with its numbers in it (asked of each gateway, for the admin view).</summary>
    [ReadOnly, AlwaysInterleave, Alias("gateway-stats")]
    Task<IReadOnlyList<GatewayStats>> GatewayStats(int maxRooms);

    /// <summary>Sends the publication to every connection of the hub; returns its sequence number.</summary>
    [Alias("publish")]
    Task<long> Publish(Publication publication);

    /// <summary>
    /// <see cref="Publish"/>, answered with the hub's epoch beside the sequence number: how a gateway learns where its
    /// send stands, to keep it until a hub grain whose silo died has come back and sent it again to the gateways that
    /// missed it (as <see cref="IMemberGroupGrain.Send"/> for a group).
    /// </summary>
    [Alias("send")]
    Task<GroupPosition> Send(Publication publication);
}
