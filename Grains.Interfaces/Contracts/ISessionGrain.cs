using System.Text.Json;

namespace Realtime.Grains;

/// <summary>
/// One connection (key from <see cref="GrainKeys.Session"/>): its namespace, gateway, user, rooms and data, so that
/// any gateway or service can reach or act on a connection that lives on another gateway.
/// </summary>
[Alias("realtime.session")]
public interface ISessionGrain : IGatewayDependentGrain
{
    [Alias("open")]
    Task Open(SessionInfo info, IGatewayObserver gateway);

    /// <summary>
    /// Makes the session resumable: returns the secret its client presents to take it back after a reconnect
    /// (<see cref="Claim"/>), the same one each time it is asked.
    /// </summary>
    [Alias("resumable")]
    Task<string> Resumable();

    /// <summary>
    /// Takes back a closed session with its secret, once, within <c>History:ResumeWindow</c> of its close: its
    /// namespace, user, rooms and data; null when it cannot (wrong secret or user, too late, already taken, or the
    /// session was lost with its silo).
    /// </summary>
    [Alias("claim")]
    Task<SessionInfo?> Claim(string token, string? userId);

    /// <summary>Forgets the connection (a resumable one is kept, closed, for <c>History:ResumeWindow</c>); its activation goes away.</summary>
    [Alias("close")]
    Task Close();

    /// <summary>The session, or null when no such connection is open.</summary>
    [Alias("get")]
    Task<SessionInfo?> Get();

    [Alias("add-room")]
    Task AddRoom(string roomKey);

    [Alias("remove-room")]
    Task RemoveRoom(string roomKey);

    [Alias("set-data")]
    Task SetData(JsonElement? data);

    /// <summary>Sends a payload to the connection; false when it is not open.</summary>
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
