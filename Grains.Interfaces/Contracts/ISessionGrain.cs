using System.Text.Json;
using Realtime.Runtime;

namespace Realtime.Grains;

/// <summary>
/// One connection (key from <see cref="GrainKeys.Session"/>): its namespace, gateway, user, rooms and data, so that
/// any gateway or service can reach or act on a connection that lives on another gateway.
/// </summary>
[GrainType("session")]
public interface ISessionGrain : IGrainWithStringKey
{
    Task Open(SessionInfo info, IGatewayObserver gateway);

    /// <summary>Forgets the connection; its activation goes away.</summary>
    Task Close();

    /// <summary>The session, or null when no such connection is open.</summary>
    Task<SessionInfo?> Get();

    Task AddRoom(string roomKey);

    Task RemoveRoom(string roomKey);

    Task SetData(JsonElement? data);

    /// <summary>Sends a payload to the connection; false when it is not open.</summary>
    Task<bool> Send(SerializedPayload payload);

    /// <summary>Asks the connection's gateway to make it join a room (by room key); false when it is not open.</summary>
    Task<bool> JoinRoom(string roomKey);

    /// <summary>Asks the connection's gateway to make it leave a room (by room key); false when it is not open.</summary>
    Task<bool> LeaveRoom(string roomKey);

    /// <summary>Calls a method on the connection's client and returns its answer; fails when the connection is not open.</summary>
    Task<JsonElement> InvokeClient(string method, JsonElement[] args, TimeSpan timeout);

    /// <summary>Asks the connection's gateway to close it; false when it is not open.</summary>
    Task<bool> Disconnect();
}
