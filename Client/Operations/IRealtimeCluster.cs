using Realtime.Contracts;

namespace Realtime.Client.Operations;

/// <summary>
/// Cluster-wide operations on the connections of the RealtimeHub, from any process of the cluster. They answer from
/// the grains, which drop the members of dead gateways, so no ghost survives a gateway's death. A call whose grain
/// cannot be reached fails (a <c>GrainCallException</c> or <see cref="TimeoutException"/>); none waits forever.
/// </summary>
public interface IRealtimeCluster
{
    /// <summary>
    /// The members of a room, on every gateway; with their data when <paramref name="withData"/> is set (one call to each
    /// gateway holding members, which leaves out a member that closed meanwhile).
    /// </summary>
    Task<IReadOnlyList<PresenceEntry>> RoomPresenceAsync(string @namespace, string room, bool withData = false, CancellationToken cancellationToken = default);

    /// <summary>The connections of a namespace, on every gateway; with their data as <see cref="RoomPresenceAsync"/>.</summary>
    Task<IReadOnlyList<PresenceEntry>> NamespacePresenceAsync(string @namespace, bool withData = false, CancellationToken cancellationToken = default);

    /// <summary>How many connections a namespace has, or one of its rooms when <paramref name="room"/> is given.</summary>
    Task<int> CountAsync(string @namespace, string? room = null, CancellationToken cancellationToken = default);

    /// <summary>What the cluster knows of one connection, or null when it is not open.</summary>
    Task<SessionInfo?> GetConnectionAsync(string connectionId, CancellationToken cancellationToken = default);

    /// <summary>Makes a connection join a room of its namespace; false when the connection is not open.</summary>
    Task<bool> JoinAsync(string connectionId, string room, CancellationToken cancellationToken = default);

    /// <summary>Makes a connection leave a room of its namespace; false when the connection is not open.</summary>
    Task<bool> LeaveAsync(string connectionId, string room, CancellationToken cancellationToken = default);

    /// <summary>
    /// The longest a call of <see cref="InvokeClientAsync"/> may wait for the client's answer: five minutes, the response
    /// timeout of the grain calls that carry the question.
    /// </summary>
    static TimeSpan MaxClientResultTimeout { get; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Calls a method on one connection's client and returns its answer (SignalR client results), wherever the
    /// connection is. Fails with a <see cref="TimeoutException"/> when the client does not answer within
    /// <paramref name="timeout"/>, which must be positive and at most five minutes (the grain calls that carry it wait
    /// that long, whatever <c>Cluster:ResponseTimeout</c> says).
    /// </summary>
    Task<System.Text.Json.JsonElement> InvokeClientAsync(string connectionId, string method, object?[] args, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends a server-to-server event to every gateway but this process (socket.io's <c>serverSideEmit</c>), or to every
    /// gateway with <paramref name="includeSelf"/>; gateway code hears it through <c>IServerEvents</c>. It goes on the
    /// hub's stream, which does not answer for its subscribers: the result is how many gateways it was addressed to
    /// (those registered for the hub when it was sent, this process left out unless <paramref name="includeSelf"/>),
    /// not how many have heard it. A gateway that dies meanwhile does not hear it.
    /// </summary>
    Task<int> ServerEmitAsync(string eventName, object? data, bool includeSelf = false, CancellationToken cancellationToken = default);

    /// <summary>Closes one connection; false when it is not open.</summary>
    Task<bool> DisconnectAsync(string connectionId, CancellationToken cancellationToken = default);

    /// <summary>Closes every connection of a user; returns how many were closed.</summary>
    Task<int> DisconnectUserAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>Closes every connection in a room; returns how many were closed.</summary>
    Task<int> DisconnectRoomAsync(string @namespace, string room, CancellationToken cancellationToken = default);
}
