using Orleans.Concurrency;

namespace Realtime.Grains;

/// <summary>
/// A hub (key: the hub's name) and the registry of the gateways that serve it. A gateway holds a lease here, which it
/// renews; a gateway whose lease runs out is dropped, and every grain drops its members. Grains that come back after
/// their silo died ask the registered gateways for their members. Sends to the whole hub go to every gateway.
/// </summary>
[Alias("realtime.hub")]
public interface IHubGrain : IGrainWithStringKey
{
    /// <summary>Takes or renews the gateway's lease.</summary>
    [Alias("renew-lease")]
    Task<LeaseStatus> RenewLease(GatewayRegistration gateway);

    /// <summary>The gateway leaves (it is stopping): its members are dropped at once.</summary>
    [Alias("leave")]
    Task Leave(string gatewayId);

    /// <summary>The gateways holding a lease, and those recently departed.</summary>
    [ReadOnly, Alias("gateways")]
    Task<GatewayView> Gateways();

    /// <summary>Each gateway holding a lease, with its numbers in this hub (asked of each gateway, for the admin view).</summary>
    [ReadOnly, AlwaysInterleave, Alias("gateway-stats")]
    Task<IReadOnlyList<GatewayStats>> GatewayStats(int maxRooms);

    /// <summary>The URL a registered gateway gave, or null when it is not registered (it left or died) or gave none.</summary>
    [ReadOnly, Alias("gateway-url")]
    Task<string?> GatewayUrl(string gatewayId);

    /// <summary>Sends the publication to every connection of the hub; returns its sequence number.</summary>
    [Alias("publish")]
    Task<long> Publish(Publication publication);
}
