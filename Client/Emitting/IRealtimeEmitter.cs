namespace Realtime.Client.Emitting;

/// <summary>
/// Sends events to the clients of the RealtimeHub from any process of the cluster, in the shape of SignalR's
/// <c>IHubContext.Clients</c>. Namespaces are written socket.io style: <c>/</c> or <c>/name</c>.
/// </summary>
public interface IRealtimeEmitter
{
    /// <summary>Every connection of a namespace, on every gateway.</summary>
    IRealtimeEmitTarget All(string @namespace = "/");

    /// <summary>Every connection of a namespace but the ones given.</summary>
    IRealtimeEmitTarget AllExcept(string @namespace, params string[] connectionIds);

    /// <summary>The members of one room of a namespace.</summary>
    IRealtimeEmitTarget Room(string @namespace, string room);

    /// <summary>The members of one room but the connections given.</summary>
    IRealtimeEmitTarget RoomExcept(string @namespace, string room, params string[] connectionIds);

    /// <summary>The members of several rooms of a namespace; a member of two of them receives the event twice.</summary>
    IRealtimeEmitTarget Rooms(string @namespace, params string[] rooms);

    /// <summary>One connection, wherever it is. Nothing happens for an id that no connection has, as with SignalR's <c>Clients.Client</c>.</summary>
    IRealtimeEmitTarget Connection(string connectionId);

    /// <summary>
    /// Sends an event to one connection, wherever it is, as <see cref="Connection"/> does, and says whether it was
    /// there: false when no connection with that id is open, nor away and kept for its client to recover (a socket.io
    /// socket with connection state recovery, which gets the event when it comes back).
    /// </summary>
    Task<bool> TryEmitToConnectionAsync(string connectionId, string eventName, object? data, CancellationToken cancellationToken = default);

    /// <summary>Every connection of one user, on every gateway.</summary>
    IRealtimeEmitTarget User(string userId);
}

/// <summary>Where an event goes.</summary>
public interface IRealtimeEmitTarget
{
    /// <summary>
    /// Serializes the event once and hands it to the grains that own the target. Completes when they have accepted
    /// it; fails when they could not be reached (a <c>GrainCallException</c> or <see cref="TimeoutException"/>).
    /// </summary>
    Task EmitAsync(string eventName, object? data, CancellationToken cancellationToken = default);
}
