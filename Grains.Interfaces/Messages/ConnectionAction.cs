namespace Realtime.Contracts;

/// <summary>What <see cref="ConnectionAction"/> does to each connection.</summary>
[GenerateSerializer, Alias("realtime.connection-action-kind")]
public enum ConnectionActionKind : byte
{
    /// <summary>The connection joins <see cref="ConnectionAction.RoomKey"/>.</summary>
    JoinRoom,

    /// <summary>The connection leaves <see cref="ConnectionAction.RoomKey"/>.</summary>
    LeaveRoom,

    /// <summary>The server closes the connection.</summary>
    Disconnect,
}

/// <summary>An operation on many connections at once (<see cref="IConnectionsGrain.Act"/>): join or leave a room, by its grain key, or close.</summary>
[GenerateSerializer, Immutable, Alias("realtime.connection-action")]
public sealed record ConnectionAction([property: Id(0)] ConnectionActionKind Kind, [property: Id(1)] string? RoomKey = null)
{
    /// <summary>The server closes each connection.</summary>
    public static ConnectionAction Disconnect { get; } = new(ConnectionActionKind.Disconnect);

    /// <summary>Each connection joins the room (by its grain key).</summary>
    public static ConnectionAction JoinRoom(string roomKey) => new(ConnectionActionKind.JoinRoom, roomKey);

    /// <summary>Each connection leaves the room (by its grain key).</summary>
    public static ConnectionAction LeaveRoom(string roomKey) => new(ConnectionActionKind.LeaveRoom, roomKey);
}
