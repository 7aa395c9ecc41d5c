using System.Text.Json;
using Realtime.Contracts;

namespace Realtime.Gateway.Core;

/// <summary>What the gateway's receiver needs from the delivery core of one hub (<see cref="LocalHub{THub}"/>).</summary>
internal interface ILocalHub
{
    void Deliver(Delivery delivery);

    /// <summary>This gateway's connections in a group (room, namespace or user, by grain key).</summary>
    IReadOnlyList<Member> Members(DeliveryTarget target, string key);

    /// <summary>This gateway's members of a group, the last of its messages applied here, and what this gateway sent it lately.</summary>
    GatewayGroupState GroupState(DeliveryTarget target, string key);

    /// <summary>A local connection's session, or null when it is not on this gateway.</summary>
    SessionInfo? Session(string connectionId);

    /// <summary>The sessions of those of the connections that are open here, read as they are now, without sharing them.</summary>
    IReadOnlyList<SessionInfo> Sessions(IReadOnlyList<string> connectionIds);

    Task<bool> JoinLocalAsync(string connectionId, string roomKey);

    Task<bool> LeaveLocalAsync(string connectionId, string roomKey);

    bool DisconnectLocal(string connectionId);

    /// <summary>Does the action to those of the connections that are here; returns for how many it was done.</summary>
    Task<int> ActLocalAsync(IReadOnlyList<string> connectionIds, ConnectionAction action);

    /// <summary>Closes a local connection telling its client why; false when it is not on this gateway.</summary>
    bool CloseLocal(string connectionId, string reason);

    /// <summary>The hub's numbers on this gateway, with at most <paramref name="maxRooms"/> rooms (the largest).</summary>
    GatewayStats Stats(int maxRooms);

    Task<JsonElement> InvokeClientLocalAsync(string connectionId, string method, JsonElement[] args, TimeSpan timeout);

    /// <summary>Calls a method on the clients of those of the connections that are here; the answers that came in time.</summary>
    Task<IReadOnlyList<JsonElement>> InvokeClientsLocalAsync(IReadOnlyList<string> connectionIds, string method, JsonElement[] args, TimeSpan timeout);
}
