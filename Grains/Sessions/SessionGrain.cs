using System.Text.Json;
using Realtime.Runtime;

namespace Realtime.Grains.Sessions;

/// <summary>
/// One connection's state, reachable from any gateway or service. Reentrant because the operations it forwards to
/// the connection's gateway call back into it (joining a room records the room here).
/// </summary>
[Reentrant]
public sealed class SessionGrain : Grain, ISessionGrain, IClusterNodeAware
{
    private readonly List<string> _rooms = [];
    private SessionInfo? _info;
    private IGatewayObserver? _gateway;
    private long _sequence;

    public Task Open(SessionInfo info, IGatewayObserver gateway)
    {
        _info = info;
        _gateway = gateway;
        _rooms.Clear();
        _rooms.AddRange(info.Rooms);
        KeepAlive = true;
        return Task.CompletedTask;
    }

    public Task Close()
    {
        _info = null;
        _gateway = null;
        _rooms.Clear();
        KeepAlive = false;
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    /// <summary>The connection's gateway left or died: the connection is gone with it.</summary>
    public Task OnNodesDeparted(IReadOnlyList<string> nodes) =>
        _info is not null && nodes.Contains(_info.Member.GatewayId) ? Close() : Task.CompletedTask;

    public Task<SessionInfo?> Get() => Task.FromResult(_info is null ? null : _info with { Rooms = _rooms.ToArray() });

    public Task AddRoom(string roomKey)
    {
        if (_info is not null && !_rooms.Contains(roomKey))
        {
            _rooms.Add(roomKey);
        }

        return Task.CompletedTask;
    }

    public Task RemoveRoom(string roomKey)
    {
        _rooms.Remove(roomKey);
        return Task.CompletedTask;
    }

    public Task SetData(JsonElement? data)
    {
        if (_info is not null)
        {
            _info = _info with { Data = data };
        }

        return Task.CompletedTask;
    }

    public Task<bool> Send(SerializedPayload payload)
    {
        if (_info is null)
        {
            return Task.FromResult(false);
        }

        _ = _gateway!.Deliver(new Delivery(_info.Hub, DeliveryTarget.Connection, _info.Member.ConnectionId, ++_sequence, payload, null));
        return Task.FromResult(true);
    }

    public Task<bool> JoinRoom(string roomKey) =>
        _info is null ? Task.FromResult(false) : _gateway!.JoinRoom(_info.Hub, _info.Member.ConnectionId, roomKey);

    public Task<bool> LeaveRoom(string roomKey) =>
        _info is null ? Task.FromResult(false) : _gateway!.LeaveRoom(_info.Hub, _info.Member.ConnectionId, roomKey);

    public Task<JsonElement> InvokeClient(string method, JsonElement[] args, TimeSpan timeout) =>
        _info is null
            ? throw new InvalidOperationException($"Connection {GetPrimaryKeyString()} is not open.")
            : _gateway!.InvokeClient(_info.Hub, _info.Member.ConnectionId, method, args, timeout);

    public Task<bool> Disconnect() =>
        _info is null ? Task.FromResult(false) : _gateway!.Disconnect(_info.Hub, _info.Member.ConnectionId);
}
