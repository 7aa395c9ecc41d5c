using System.Text.Json;
using Orleans.Concurrency;

namespace Realtime.Contracts;

/// <summary>
/// One connection (key from <see cref="GrainKeys.Session"/>): its namespace, gateway, user, rooms and data, so that
/// any gateway or service can reach or act on a connection that lives on another gateway.
/// </summary>
[Alias("realtime.session")]
public interface ISessionGrain : IGatewayDependentGrain
{
    /// <summary>The connection opened on its gateway, as <paramref name="info"/> describes it.</summary>
    [Alias("open")]
    Task Open(SessionInfo info);

    /// <summary>
    /// Opens the session as one its client may recover after a disconnection of up to <paramref name="window"/>
    /// (socket.io connection state recovery): the session keeps the messages sent to its connection alone as history
    /// (<see cref="Since"/>), and is kept that long after it closes. Returns the secret the client presents to
    /// recover it (<see cref="Recover"/>); a session opened again after a recovery keeps its secret.
    /// </summary>
    [Alias("open-recoverable")]
    Task<string> OpenRecoverable(SessionInfo info, TimeSpan window);

    /// <summary>
    /// Hands a recoverable session (<see cref="OpenRecoverable"/>) to a gateway that will open it again under the same
    /// connection id: its rooms, data and where it joined each room; null when it cannot (wrong secret or user, past
    /// its window, or lost with its silo). A session still open on a gateway is closed there. Until it is opened
    /// again, what is sent to the connection is kept for it; a close from <paramref name="gatewayId"/> without
    /// <c>keepForResume</c> gives the recovery up, and <see cref="EndClaim"/> gives the session back (the recovery
    /// failed on the cluster). Meanwhile no other gateway can take it, for three times <c>Cluster:ResponseTimeout</c>.
    /// </summary>
    [Alias("recover")]
    Task<SessionRecovery?> Recover(string token, string? userId, string gatewayId);

    /// <summary>
    /// The messages sent to the connection alone after <paramref name="sequence"/> of <paramref name="epoch"/>, for a
    /// recoverable session; incomplete when some are gone (aged out, or the session came back after its silo died).
    /// </summary>
    [ReadOnly, Alias("since")]
    Task<Replay> Since(string epoch, long sequence);

    /// <summary>
    /// Makes the session resumable: returns the secret its client presents to take it back after a reconnect
    /// (<see cref="Claim"/>), the same one each time it is asked.
    /// </summary>
    [Alias("resumable")]
    Task<string> Resumable();

    /// <summary>
    /// Takes back a closed session of <paramref name="hub"/> and <paramref name="namespace"/> with its secret, within
    /// <c>History:ResumeWindow</c> of its close, for gateway <paramref name="gatewayId"/>: its namespace, user, rooms and
    /// data; null when it cannot (wrong secret, user, hub or namespace, too late, already taken, or the session was lost
    /// with its silo). The session is held for that gateway until it calls <see cref="EndClaim"/>: taken for good when
    /// the resume worked, given back when it did not, so that the client can try again. A gateway that never ends its
    /// claim loses it after three times <c>Cluster:ResponseTimeout</c>, or when it leaves the cluster; the same gateway
    /// may claim it again meanwhile (its earlier try failed, perhaps after the claim was made).
    /// </summary>
    [Alias("claim-for")]
    Task<SessionInfo?> Claim(string token, string? userId, string hub, string @namespace, string gatewayId);

    /// <summary>Ends gateway <paramref name="gatewayId"/>'s claim (<see cref="Claim"/>): the session is forgotten when <paramref name="resumed"/>, and can be claimed again when not.</summary>
    [Alias("end-claim")]
    Task EndClaim(string gatewayId, bool resumed);

    /// <summary>
    /// The connection closed on <paramref name="gatewayId"/>: the session forgets it, unless it is resumable or
    /// recoverable and <paramref name="keepForResume"/> (then it is kept, closed, for its window). A close from a gateway
    /// that no longer holds the session (it was recovered elsewhere) changes nothing.
    /// </summary>
    [Alias("close")]
    Task Close(string gatewayId, bool keepForResume);

    /// <summary>The session, or null when no such connection is open.</summary>
    [Alias("get")]
    Task<SessionInfo?> Get();

    /// <summary>Records a room the connection joined; <paramref name="joined"/> is where the room stood then, when known.</summary>
    [Alias("add-room")]
    Task AddRoom(string roomKey, GroupPosition? joined);

    /// <summary>Records that the connection left a room (by room key).</summary>
    [Alias("remove-room")]
    Task RemoveRoom(string roomKey);

    /// <summary>Sets the application data attached to the connection; null clears it.</summary>
    [Alias("set-data")]
    Task SetData(JsonElement? data);

    /// <summary>
    /// Sends a payload to the connection: answered once its gateway took it (or left the cluster, which ends the
    /// connection; a recoverable one keeps it for its client), so that a success cannot die with this grain's node.
    /// False when it is not open. Fails when the gateway's node fails the call and is still active after
    /// <c>Cluster:ResponseTimeout</c>.
    /// </summary>
    [Alias("send")]
    Task<bool> Send(SerializedPayload payload);

    /// <summary>Asks the connection's gateway to make it join a room (by room key); false when it is not open.</summary>
    [Alias("join-room")]
    Task<bool> JoinRoom(string roomKey);

    /// <summary>Asks the connection's gateway to make it leave a room (by room key); false when it is not open.</summary>
    [Alias("leave-room")]
    Task<bool> LeaveRoom(string roomKey);

    /// <summary>
    /// Calls a method on the connection's client and returns its answer; fails when the connection is not open, and
    /// with a <see cref="TimeoutException"/> when the client does not answer within <paramref name="timeout"/> (at
    /// most five minutes).
    /// </summary>
    [ResponseTimeout("00:05:00"), Alias("invoke-client")]
    Task<JsonElement> InvokeClient(string method, JsonElement[] args, TimeSpan timeout);

    /// <summary>Asks the connection's gateway to close it; false when it is not open.</summary>
    [Alias("disconnect")]
    Task<bool> Disconnect();
}
