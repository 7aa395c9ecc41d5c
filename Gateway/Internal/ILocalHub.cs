using Realtime.Grains;

namespace Realtime.Gateway.Internal;

/// <summary>What the gateway's receiver needs from the lifetime manager of one hub.</summary>
internal interface ILocalHub
{
    void Deliver(Delivery delivery);

    void RoomClosed(string roomKey);

    Task<bool> JoinLocalAsync(string connectionId, string roomKey);

    Task<bool> LeaveLocalAsync(string connectionId, string roomKey);

    bool DisconnectLocal(string connectionId);

    Task<System.Text.Json.JsonElement> InvokeClientLocalAsync(string connectionId, string method, System.Text.Json.JsonElement[] args, TimeSpan timeout);
}
