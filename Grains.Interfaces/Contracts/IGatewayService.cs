using System.Text.Json;
using Orleans.Concurrency;
using Orleans.Services;

namespace Realtime.Contracts;

/// <summary>
/// A gateway as grains see it: the receiver of deliveries for its local connections, and the owner that carries out
/// operations on a connection requested from elsewhere. Gateways are silos, and every silo runs this grain service;
/// grains reach a gateway's by the silo its id names (<see cref="GatewayIds"/>). A silo that holds no connections
/// answers that it has none.
/// </summary>
/// <remarks>
/// Deliveries are one-way and carry their place in their group's chain, since Orleans does not keep the order of calls
/// in flight. Everything that waits on something else (a grain, a client's answer) interleaves, so that it never holds
/// deliveries back.
/// </remarks>
[Alias("realtime.gateway")]
public interface IGatewayService : IGrainService
{
    /// <summary>
    /// Writes the payload to the gateway's local recipients of <see cref="Delivery.Key"/>, or acts on the notice it
    /// carries, in the order of its chain (see <see cref="Delivery.Position"/>).
    /// </summary>
    [OneWay, Alias("deliver")]
    Task Deliver(Delivery delivery);

    /// <summary>
    /// <see cref="Deliver"/>, answered once the gateway took the delivery into its order: how a group confirms a
    /// service's send to the service only when every gateway with members has it (<see cref="IMemberGroupGrain.PublishConfirmed"/>).
    /// </summary>
    [Alias("deliver-confirmed")]
    Task DeliverConfirmed(Delivery delivery);

    /// <summary>
    /// <see cref="Deliver"/> for several deliveries at once, applied in the order given: what one turn of a group sends
    /// the gateway (a sender's batch of sends), in one message between the nodes instead of one per message. Sent only
    /// to a silo that says it reads <c>realtime.payloads</c> 4 or later.
    /// </summary>
    [OneWay, Alias("deliver-all")]
    Task DeliverAll(Delivery[] deliveries);

    /// <summary>
    /// The gateway's local members of a group (room, namespace or user, by grain key): how a group's grain that was
    /// activated again (its silo died, or it was idle) learns its members before it delivers anything.
    /// </summary>
    [AlwaysInterleave, Alias("members")]
    Task<IReadOnlyList<Member>> Members(string hub, DeliveryTarget target, string key);

    /// <summary>
    /// <see cref="Members"/>, with the last of the group's messages the gateway applied and those it sent the group
    /// lately: how a group's new activation finds the messages that its previous one was answered for but that did
    /// not reach every gateway before its silo died, and sends them again (<see cref="DeliveryKind.Resent"/>). For
    /// <see cref="DeliveryTarget.Hub"/> (key: the hub), what the gateway applied of the hub's sends and sent it, with no
    /// members: the hub's grain asks it of a gateway whose silo says version 4 (see <c>PayloadForms</c>).
    /// </summary>
    [AlwaysInterleave, Alias("group-state")]
    Task<GatewayGroupState> GroupState(string hub, DeliveryTarget target, string key);

    /// <summary>A local connection's session, or null when the connection is not on this gateway.</summary>
    [AlwaysInterleave, Alias("session")]
    Task<SessionInfo?> Session(string hub, string connectionId);

    /// <summary>
    /// The sessions of those of <paramref name="connectionIds"/> that are open on this gateway (namespace, user, rooms,
    /// data), read as they are now: how presence with data and socket.io's <c>fetchSockets</c> learn a group's members
    /// with one call per gateway, without a session grain for each.
    /// </summary>
    [AlwaysInterleave, Alias("sessions")]
    Task<IReadOnlyList<SessionInfo>> Sessions(string hub, IReadOnlyList<string> connectionIds);

    /// <summary>
    /// Does <paramref name="action"/> to those of <paramref name="connectionIds"/> that are open on this gateway, as
    /// <see cref="JoinRoom"/>, <see cref="LeaveRoom"/> or <see cref="Disconnect"/> would to each; returns for how many it
    /// was done.
    /// </summary>
    [AlwaysInterleave, Alias("act")]
    Task<int> Act(string hub, IReadOnlyList<string> connectionIds, ConnectionAction action);

    /// <summary>
    /// Calls a method on the clients of those of <paramref name="connectionIds"/> that are open on this gateway, as
    /// <see cref="InvokeClient"/> does for one, and returns the answers of those that gave one within
    /// <paramref name="timeout"/> (in no particular order): a client that did not answer, or failed, gives none.
    /// </summary>
    [AlwaysInterleave, ResponseTimeout("00:05:00"), Alias("invoke-clients")]
    Task<IReadOnlyList<JsonElement>> InvokeClients(string hub, IReadOnlyList<string> connectionIds, string method, JsonElement[] args, TimeSpan timeout);

    /// <summary>Makes a local connection join a room (by room key); false when the connection is not on this gateway.</summary>
    [AlwaysInterleave, Alias("join-room")]
    Task<bool> JoinRoom(string hub, string connectionId, string roomKey);

    /// <summary>Makes a local connection leave a room (by room key); false when the connection is not on this gateway.</summary>
    [AlwaysInterleave, Alias("leave-room")]
    Task<bool> LeaveRoom(string hub, string connectionId, string roomKey);

    /// <summary>
    /// Calls a method on a local connection's client and returns the client's answer (SignalR client results).
    /// Fails with a <see cref="TimeoutException"/> when the client does not answer within <paramref name="timeout"/>,
    /// which may be up to five minutes: the call's own response timeout.
    /// </summary>
    [AlwaysInterleave, ResponseTimeout("00:05:00"), Alias("invoke-client")]
    Task<JsonElement> InvokeClient(string hub, string connectionId, string method, JsonElement[] args, TimeSpan timeout);

    /// <summary>Closes a local connection; false when it is not on this gateway.</summary>
    [AlwaysInterleave, Alias("disconnect")]
    Task<bool> Disconnect(string hub, string connectionId);

    /// <summary>
    /// This gateway's id when it serves <paramref name="hub"/> (it made the hub's lifetime manager); null when it does
    /// not, or when this silo holds no connections.
    /// </summary>
    [AlwaysInterleave, Alias("serving")]
    Task<string?> Serving(string hub);

    /// <summary>
    /// The URL other gateways reach this one at, for requests they forward to it (socket.io long-polling of a session
    /// it owns); null on a silo without connections, or a gateway that takes none.
    /// </summary>
    [AlwaysInterleave, Alias("url")]
    Task<string?> Url();

    /// <summary>The gateway's numbers in <paramref name="hub"/>, with at most <paramref name="maxRooms"/> rooms (the largest).</summary>
    [AlwaysInterleave, Alias("stats")]
    Task<GatewayStats> Stats(string hub, int maxRooms);
}
