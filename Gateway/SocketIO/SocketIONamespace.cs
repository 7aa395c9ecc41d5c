using System.Collections.Concurrent;
using System.Text.Json;
using Realtime.Contracts;
using Realtime.Gateway.Cluster;
using Realtime.Gateway.SocketIO.Protocol;

namespace Realtime.Gateway.SocketIO;

/// <summary>
/// A socket.io namespace: its connection middleware and handlers on this gateway, and broadcasts and cluster-wide
/// operations that reach its sockets on every gateway. A namespace of name <c>/chat</c> is the same namespace as
/// the SignalR hub's <c>/realtime/chat</c>: they share rooms and broadcasts.
/// </summary>
public sealed class SocketIONamespace
{
    private readonly List<Func<Socket, Task>> _middleware = [];
    private readonly List<Func<Socket, Task>> _connectionHandlers = [];
    private readonly ConcurrentDictionary<string, Socket> _sockets = new(StringComparer.Ordinal);

    internal SocketIONamespace(SocketIOServer server, string name)
    {
        Server = server;
        Name = name;
    }

    /// <summary>The name, <c>/</c> or <c>/name</c>.</summary>
    public string Name { get; }

    public SocketIOServer Server { get; }

    /// <summary>The sockets of this namespace connected to this gateway.</summary>
    public IReadOnlyDictionary<string, Socket> LocalSockets => _sockets;

    /// <summary>
    /// Adds connection middleware: it runs, in the order added, before a client joins the namespace. Throw a
    /// <see cref="SocketIOConnectionRefusedException"/> to refuse the client with a message.
    /// </summary>
    public SocketIONamespace Use(Func<Socket, Task> middleware)
    {
        lock (_middleware)
        {
            _middleware.Add(middleware);
        }

        return this;
    }

    /// <summary>Runs for each client that joined the namespace; register its event handlers here.</summary>
    public SocketIONamespace OnConnection(Func<Socket, Task> handler)
    {
        lock (_connectionHandlers)
        {
            _connectionHandlers.Add(handler);
        }

        return this;
    }

    public SocketIONamespace OnConnection(Action<Socket> handler) => OnConnection(socket =>
    {
        handler(socket);
        return Task.CompletedTask;
    });

    public BroadcastOperator To(string room) => new BroadcastOperator(this).To(room);

    public BroadcastOperator To(IEnumerable<string> rooms) => new BroadcastOperator(this).To(rooms);

    public BroadcastOperator In(string room) => To(room);

    public BroadcastOperator Except(string room) => new BroadcastOperator(this).Except(room);

    public BroadcastOperator Timeout(TimeSpan timeout) => new BroadcastOperator(this).Timeout(timeout);

    /// <summary>Sends an event to every socket of the namespace, on every gateway.</summary>
    public Task EmitAsync(string eventName, params object?[] args) => new BroadcastOperator(this).EmitAsync(eventName, args);

    /// <summary>Sends an event with one argument, serialized by its JSON metadata, to every socket of the namespace, on every gateway.</summary>
    public Task EmitAsync<T>(string eventName, T data, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        new BroadcastOperator(this).EmitAsync(eventName, data, typeInfo);

    public Task<IReadOnlyList<JsonElement>> EmitWithAckAsync(string eventName, params object?[] args) => new BroadcastOperator(this).EmitWithAckAsync(eventName, args);

    public Task<IReadOnlyList<RemoteSocket>> FetchSocketsAsync() => new BroadcastOperator(this).FetchSocketsAsync();

    public Task SocketsJoinAsync(string room) => new BroadcastOperator(this).SocketsJoinAsync(room);

    public Task SocketsLeaveAsync(string room) => new BroadcastOperator(this).SocketsLeaveAsync(room);

    public Task DisconnectSocketsAsync() => new BroadcastOperator(this).DisconnectSocketsAsync();

    /// <summary>
    /// Sends an event to the other gateways and services (socket.io's <c>serverSideEmit</c>); they hear it through
    /// <see cref="OnServerSideEmit"/> or <see cref="IServerEvents"/>. Returns how many nodes got it.
    /// </summary>
    public Task<int> ServerSideEmitAsync(string eventName, object? data) => Server.Cluster.ServerEmitAsync(eventName, data);

    /// <summary>Handles server-side events from other gateways and services; dispose to stop.</summary>
    public IDisposable OnServerSideEmit(string eventName, Func<ServerEvent, Task> handler) => Server.ServerEvents.On(eventName, handler);

    /// <summary>Closes the room: every member, on every gateway, leaves it. Returns how many there were.</summary>
    public Task<int> CloseRoomAsync(string room) => Server.Hub.CloseRoomAsync(Name, CheckRoom(room));

    internal IReadOnlyList<Func<Socket, Task>> Middleware
    {
        get
        {
            lock (_middleware)
            {
                return [.. _middleware];
            }
        }
    }

    internal IReadOnlyList<Func<Socket, Task>> ConnectionHandlers
    {
        get
        {
            lock (_connectionHandlers)
            {
                return [.. _connectionHandlers];
            }
        }
    }

    internal void SocketJoined(Socket socket) => _sockets[socket.Id] = socket;

    internal Task SocketLeft(Socket socket)
    {
        _sockets.TryRemove(KeyValuePair.Create(socket.Id, socket));
        return Task.CompletedTask;
    }

    internal static string CheckRoom(string room) =>
        Names.ValidateRoom(room) is { } error ? throw new ArgumentException($"Invalid room name: {error}", nameof(room)) : room;

    internal static void CheckEventName(string eventName)
    {
        if (Names.ValidateEvent(eventName) is { } error)
        {
            throw new ArgumentException($"Invalid event name: {error}", nameof(eventName));
        }

        if (SocketIOCodec.ReservedEvents.Contains(eventName))
        {
            throw new ArgumentException($"\"{eventName}\" is a reserved event name.", nameof(eventName));
        }
    }

    /// <summary>Whether a room name has the shape of a socket id (20 base64url characters), so may name a socket.</summary>
    internal static bool CouldBeSocketId(string room) =>
        room.Length == SocketIOServer.SocketIdLength && room.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
