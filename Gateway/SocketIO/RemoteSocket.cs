using System.Text.Json;
using Realtime.Contracts;

namespace Realtime.Gateway.SocketIO;

/// <summary>A socket on any gateway, as <see cref="BroadcastOperator.FetchSocketsAsync"/> found it.</summary>
public sealed class RemoteSocket
{
    private readonly SocketIONamespace _namespace;

    internal RemoteSocket(SocketIONamespace @namespace, SessionInfo session)
    {
        _namespace = @namespace;
        Id = session.Member.ConnectionId;
        GatewayId = session.Member.GatewayId;
        UserId = session.Member.UserId;
        Data = session.Data;
        Rooms = [Id, .. session.Rooms.Select(GrainKeys.RoomName)];
    }

    public string Id { get; }

    /// <summary>The gateway the socket is connected to.</summary>
    public string GatewayId { get; }

    public string? UserId { get; }

    /// <summary>The socket's <see cref="Socket.Data"/> as last stored.</summary>
    public JsonElement? Data { get; }

    /// <summary>Its own id, then the rooms it joined.</summary>
    public IReadOnlyList<string> Rooms { get; }

    public Task EmitAsync(string eventName, params object?[] args) => _namespace.To(Id).EmitAsync(eventName, args);

    public Task JoinAsync(string room) => _namespace.Server.Hub.JoinRoomAsync(Id, _namespace.Name, SocketIONamespace.CheckRoom(room));

    public Task LeaveAsync(string room) => _namespace.Server.Hub.LeaveRoomAsync(Id, _namespace.Name, SocketIONamespace.CheckRoom(room));

    public Task DisconnectAsync() => _namespace.Server.Cluster.DisconnectAsync(Id);
}
