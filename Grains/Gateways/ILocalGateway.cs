using System.Text.Json;
using Realtime.Contracts;

namespace Realtime.Grains.Gateways;

/// <summary>
/// The connections a gateway silo holds, as its <see cref="IGatewayService"/> hands them the cluster's deliveries and
/// requests. A gateway host registers one in the silo's services; a silo without one holds no connections, and its
/// gateway service answers that it has none. Calls arrive on Orleans' threads: implementations are thread-safe.
/// </summary>
public interface ILocalGateway
{
    /// <summary>Where other gateways reach this one for the requests they forward to it; null when it takes none.</summary>
    string? Url { get; }

    void Deliver(Delivery delivery);

    /// <summary>Several deliveries that came in one call (<see cref="IGatewayService.DeliverAll"/>), in their order.</summary>
    void DeliverAll(IReadOnlyList<Delivery> deliveries)
    {
        foreach (var delivery in deliveries)
        {
            Deliver(delivery);
        }
    }

    IReadOnlyList<Member> Members(string hub, DeliveryTarget target, string key);

    /// <summary>
    /// The gateway's members of a group, the last of the group's messages it applied, and what it sent the group lately
    /// (see <see cref="IGatewayService.GroupState"/>). A gateway that keeps neither answers with its members alone.
    /// </summary>
    GatewayGroupState GroupState(string hub, DeliveryTarget target, string key) => new(Members(hub, target, key), null, []);

    SessionInfo? Session(string hub, string connectionId);

    /// <summary>The sessions of those of the connections that are open here, read without sharing them with session grains.</summary>
    IReadOnlyList<SessionInfo> Sessions(string hub, IReadOnlyList<string> connectionIds);

    Task<bool> JoinRoom(string hub, string connectionId, string roomKey);

    /// <summary>Does the action to those of the connections that are open here; returns for how many it was done.</summary>
    Task<int> Act(string hub, IReadOnlyList<string> connectionIds, ConnectionAction action);

    /// <summary>Calls a method on the clients of those of the connections that are open here; the answers that came in time.</summary>
    Task<IReadOnlyList<JsonElement>> InvokeClients(string hub, IReadOnlyList<string> connectionIds, string method, JsonElement[] args, TimeSpan timeout);

    Task<bool> LeaveRoom(string hub, string connectionId, string roomKey);

    Task<JsonElement> InvokeClient(string hub, string connectionId, string method, JsonElement[] args, TimeSpan timeout);

    bool Disconnect(string hub, string connectionId);

    /// <summary>This gateway's id (<see cref="GatewayIds.Create"/> with this silo's address) when it serves the hub; null when not.</summary>
    string? Serving(string hub);

    GatewayStats Stats(string hub, int maxRooms);
}
