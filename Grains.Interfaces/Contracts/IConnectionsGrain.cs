using System.Text.Json;
using Orleans.Concurrency;

namespace Realtime.Contracts;

/// <summary>
/// Acts on many connections of a hub (key: the hub's name) through the gateways that hold them, one call to each
/// gateway: how socket.io's <c>socketsJoin</c>, <c>socketsLeave</c> and <c>disconnectSockets</c>, and a service's
/// disconnect of a room or user, and broadcasts with acknowledgements, reach their members without waking a session
/// grain for each. A reentrant stateless worker: it runs on the silo that calls it, and a call that waits for clients'
/// answers holds up no other.
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

    /// <summary>
    /// Calls a method on each member's client, through its gateway (<see cref="IGatewayService.InvokeClients"/>), and
    /// returns the answers that came within <paramref name="timeout"/>, in no particular order: socket.io's broadcast
    /// with acknowledgements. The members of a gateway that fails give none (their clients may have been called: they
    /// are not called again); a member whose gateway is not known (an empty id) is called through its session grain.
    /// </summary>
    [ResponseTimeout("00:05:00"), Alias("invoke-clients")]
    Task<IReadOnlyList<JsonElement>> InvokeClients(IReadOnlyList<Member> members, string method, JsonElement[] args, TimeSpan timeout);
}
