namespace Realtime.Contracts;

/// <summary>A room a connection is in, and where the room stood when the connection joined it.</summary>
[GenerateSerializer, Immutable, Alias("realtime.room-join")]
public sealed record RoomJoin([property: Id(0)] string RoomKey, [property: Id(1)] GroupPosition Position);

/// <summary>
/// What a session grain hands the gateway that recovers its connection (socket.io connection state recovery, see
/// <see cref="ISessionGrain.Recover"/>): the session as it was, where the connection joined each of its rooms, and
/// the epoch of the messages sent to the connection alone.
/// </summary>
[GenerateSerializer, Immutable, Alias("realtime.session-recovery")]
public sealed record SessionRecovery(
    [property: Id(0)] SessionInfo Session,
    [property: Id(1)] IReadOnlyList<RoomJoin> Joins,
    [property: Id(2)] string Epoch);
