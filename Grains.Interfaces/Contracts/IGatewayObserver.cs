using Realtime.Runtime;

namespace Realtime.Grains;

/// <summary>
/// A gateway as grains see it: the receiver of deliveries for its local connections, and the owner that carries out
/// operations on a connection requested from elsewhere. One per gateway process.
/// </summary>
public interface IGatewayObserver : IGrainObserver
{
    /// <summary>Writes the payload to the gateway's local recipients of <see cref="Delivery.Key"/>.</summary>
    [OneWay]
    Task Deliver(Delivery delivery);

    /// <summary>A server-to-server event, sent to every gateway of the hub but the sender's.</summary>
    [OneWay]
    Task ServerEvent(string hub, string eventName, System.Text.Json.JsonElement data, string from);

    /// <summary>The room was closed: its local members leave it and are told.</summary>
    [OneWay]
    Task RoomClosed(string hub, string roomKey);

    /// <summary>Makes a local connection join a room (by room key); false when the connection is not on this gateway.</summary>
    Task<bool> JoinRoom(string hub, string connectionId, string roomKey);

    /// <summary>Makes a local connection leave a room (by room key); false when the connection is not on this gateway.</summary>
    Task<bool> LeaveRoom(string hub, string connectionId, string roomKey);

    /// <summary>
    /// Calls a method on a local connection's client and returns the client's answer (SignalR client results).
    /// Fails with a <see cref="TimeoutException"/> when the client does not answer within <paramref name="timeout"/>.
    /// </summary>
    Task<System.Text.Json.JsonElement> InvokeClient(string hub, string connectionId, string method, System.Text.Json.JsonElement[] args, TimeSpan timeout);

    /// <summary>Closes a local connection; false when it is not on this gateway.</summary>
    Task<bool> Disconnect(string hub, string connectionId);
}
