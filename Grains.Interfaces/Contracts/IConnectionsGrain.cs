using Orleans.Concurrency;

namespace Realtime.Contracts;

/// <summary>
/// Acts on many connections of a hub (key: the hub's name) through the gateways that hold them, one call to each
/// gateway: how socket.io's <c>socketsJoin</c>, <c>socketsLeave</c> and <c>disconnectSockets</c>, and a service's
/// disconnect of a room or user, reach their members without waking a session grain for each. A stateless worker: it
/// runs on the silo that calls it.
/// </summary>
[Alias("realtime.connections")]
public interface IConnectionsGrain : IGrainWithStringKey
{
    /// <summary>
    /// Does <paramref name="action"/> to each member, on the gateway its <see cref="Member.GatewayId"/> names; returns
    /// for how many it was done (a member whose connection closed meanwhile is not counted). The members of a gateway
    /// that does not answer, or whose gateway is not known (an empty id), are reached through their session grains.
    /// </summary>
    [Alias("act")]
    Task<int> Act(IReadOnlyList<Member> members, ConnectionAction action);
}
