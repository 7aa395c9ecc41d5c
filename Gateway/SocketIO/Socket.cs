using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Realtime.Contracts;
using Realtime.Gateway.Observability;
using Realtime.Gateway.SocketIO.Engine;
using Realtime.Gateway.SocketIO.Internal;

namespace Realtime.Gateway.SocketIO;

/// <summary>
/// One client's connection to one namespace, as socket.io's server-side socket. Its handlers run one at a time, in
/// the order the client's events arrived. Rooms, broadcasts and its <see cref="Data"/> live in the cluster's grains,
/// so every gateway sees them.
/// </summary>
public sealed partial class Socket
{
    private readonly SocketIOClient _client;
    private readonly Dictionary<string, Func<SocketIOEvent, Task>> _handlers = new(StringComparer.Ordinal);
    private readonly List<Func<string, Task>> _disconnectHandlers = [];
    private readonly Channel<Func<Task>> _work = Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<long, TaskCompletionSource<SocketIOArgs>> _acks = new();
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _gone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _syncedData;
    private long _nextAck;
    private int _disconnected;

    // The client's events waiting for the handlers, and whoever waits for one of them to finish (the reading of the
    // client's connection, at SocketIO:MaxQueuedEvents).
    private readonly Lock _eventsLock = new();
    private int _queuedEvents;
    private TaskCompletionSource? _roomForEvents;

    internal Socket(SocketIOClient client, SocketIONamespace @namespace, string id, SocketIOHandshake handshake, string? userId, ILogger logger)
    {
        _client = client;
        Namespace = @namespace;
        Id = id;
        Handshake = handshake;
        UserId = userId;
        _logger = logger;
        _ = RunAsync();
    }

    /// <summary>The socket's id, unique in the cluster; also the name of a room only it is in.</summary>
    public string Id { get; }

    public SocketIONamespace Namespace { get; }

    public SocketIOHandshake Handshake { get; }

    /// <summary>The user a JWT authenticated, if any.</summary>
    public string? UserId { get; }

    /// <summary>
    /// Application data: after the connection handlers and after each event handler, changes are stored in the
    /// socket's session grain, where <see cref="SocketIONamespace.FetchSocketsAsync"/> reads them from any gateway.
    /// </summary>
    public JsonObject Data { get; } = [];

    public bool Connected => Volatile.Read(ref _disconnected) == 0 && Connection is not null;

    /// <summary>
    /// Whether the socket's session was recovered after a disconnection (socket.io's <c>socket.recovered</c>, with
    /// <c>SocketIO:ConnectionStateRecovery</c>): it has its old id, rooms and data, and was sent what it missed.
    /// </summary>
    public bool Recovered { get; internal set; }

    /// <summary>Completes once the socket has left the cluster after it disconnected.</summary>
    internal Task Gone => _gone.Task;

    /// <summary>The rooms the socket is in: its own id first, then those it joined.</summary>
    public IReadOnlyList<string> Rooms => [Id, .. (Connection?.RoomKeys() ?? []).Select(GrainKeys.RoomName)];

    internal SocketIOConnection? Connection { get; set; }

    /// <summary>Handles an event; a second handler for the same event replaces the first.</summary>
    public Socket On(string eventName, Func<SocketIOEvent, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentNullException.ThrowIfNull(handler);
        lock (_handlers)
        {
            _handlers[eventName] = handler;
        }

        return this;
    }

    /// <summary>
    /// Handles an event and acknowledges it with what the handler returns, as flask-socketio does: a client that
    /// passed a callback gets the value (or no arguments for null), unless the handler acknowledged it itself.
    /// Handlers that return nothing acknowledge only when they call <see cref="SocketIOEvent.AckAsync"/>, as in
    /// socket.io.
    /// </summary>
    public Socket On(string eventName, Func<SocketIOEvent, Task<object?>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return On(eventName, async e =>
        {
            var result = await handler(e);
            await e.AckAsync(result is null ? [] : [result]);
        });
    }

    public Socket On(string eventName, Action<SocketIOEvent> handler) => On(eventName, e =>
    {
        handler(e);
        return Task.CompletedTask;
    });

    /// <summary>Runs when the socket disconnects, with socket.io's reason (<c>client namespace disconnect</c>, <c>ping timeout</c>...).</summary>
    public Socket OnDisconnect(Func<string, Task> handler)
    {
        lock (_handlers)
        {
            _disconnectHandlers.Add(handler);
        }

        return this;
    }

    public Socket OnDisconnect(Action<string> handler) => OnDisconnect(reason =>
    {
        handler(reason);
        return Task.CompletedTask;
    });

    /// <summary>
    /// Sends an event to this client only. With connection state recovery it goes through the socket's session, which
    /// keeps it for a recovery, and completes when the session took it.
    /// </summary>
    public Task EmitAsync(string eventName, params object?[] args)
    {
        SocketIONamespace.CheckEventName(eventName);
        return Emit(SocketIOEncoding.SerializeEvent(eventName, args));
    }

    /// <summary>
    /// Sends an event with one argument to this client only, serialized by its JSON metadata (a source-generated
    /// <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>'s, say) instead of by reflection.
    /// </summary>
    public Task EmitAsync<T>(string eventName, T data, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        SocketIONamespace.CheckEventName(eventName);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return Emit(SocketIOEncoding.SerializeEvent(eventName, data, typeInfo));
    }

    private Task Emit(ProtocolPayload form)
    {
        if (Connection is { RecoveryWindow: not null })
        {
            return Namespace.Server.Hub.SendConnectionAsync(Id, new SerializedPayload([form], DateTime.UtcNow.Ticks));
        }

        _client.Send(SocketIOEncoding.EventFrame(form, Namespace.Name));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Sends an event to this client and waits for its acknowledgement (default timeout
    /// <see cref="SocketIOOptions.AckTimeout"/>); fails with a <see cref="TimeoutException"/> when none comes.
    /// </summary>
    public async Task<SocketIOArgs> EmitWithAckAsync(string eventName, object?[] args, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        SocketIONamespace.CheckEventName(eventName);
        var id = Interlocked.Increment(ref _nextAck);
        var answer = new TaskCompletionSource<SocketIOArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        _acks[id] = answer;
        try
        {
            if (!Connected)
            {
                throw new InvalidOperationException($"Socket {Id} is disconnected.");
            }

            _client.Send(SocketIOEncoding.EventFrame(SocketIOEncoding.SerializeEvent(eventName, args), Namespace.Name, id));
            var limit = timeout ?? Namespace.Server.Options.AckTimeout;
            try
            {
                return await answer.Task.WaitAsync(limit, cancellationToken);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"Socket {Id} did not acknowledge {eventName} within {limit.TotalSeconds:0.###} s.");
            }
        }
        finally
        {
            _acks.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Throws <see cref="Authorization.RealtimeForbiddenException"/> unless this socket's client may do
    /// <paramref name="operation"/> on <paramref name="room"/> (null: the namespace) under the namespace's permissions
    /// (<c>Permissions</c>) and the application's <see cref="Authorization.IRealtimeAuthorizer"/>. Handlers of client
    /// events call it before acting for the client; what the server does on its own needs no permission.
    /// </summary>
    public ValueTask EnsureAllowedAsync(Authorization.RealtimeOperation operation, string? room = null) =>
        Namespace.Server.Permissions.EnsureAllowedAsync(this, operation, room);

    /// <summary>Joins a room of the socket's namespace, on every gateway, after the sends the socket queued before.</summary>
    public async Task JoinAsync(string room)
    {
        SocketIONamespace.CheckRoom(room);
        await DrainSendsAsync();
        await Namespace.Server.Hub.JoinRoomAsync(Id, Namespace.Name, room);
    }

    public Task JoinAsync(IEnumerable<string> rooms) => Task.WhenAll(rooms.Select(JoinAsync));

    /// <summary>Leaves a room, after the sends the socket queued before: a message it sent there comes before it leaves.</summary>
    public async Task LeaveAsync(string room)
    {
        SocketIONamespace.CheckRoom(room);
        await DrainSendsAsync();
        await Namespace.Server.Hub.LeaveRoomAsync(Id, Namespace.Name, room);
    }

    /// <summary>To the members of a room but this socket (socket.io's <c>socket.to(room)</c>).</summary>
    public BroadcastOperator To(string room) => Broadcast.To(room);

    public BroadcastOperator To(IEnumerable<string> rooms) => Broadcast.To(rooms);

    public BroadcastOperator In(string room) => To(room);

    public BroadcastOperator Except(string room) => Broadcast.Except(room);

    /// <summary>To every socket of the namespace but this one.</summary>
    public BroadcastOperator Broadcast => new BroadcastOperator(Namespace).ExceptSocket(Id).From(Id);

    /// <summary>
    /// Disconnects the socket from its namespace (the client hears <c>io server disconnect</c> and does not
    /// reconnect); with <paramref name="close"/>, closes the client's whole connection. The emits its handlers queued
    /// go first.
    /// </summary>
    public async Task DisconnectAsync(bool close = false)
    {
        await DrainSendsAsync();
        if (close)
        {
            _client.Close("forced close");
        }
        else if (Connected)
        {
            _client.Send(SocketIOEncoding.ControlFrame('1', Namespace.Name));
            _client.Detach(this, "server namespace disconnect");
        }
    }

    internal void Enqueue(Func<Task> work) => _work.Writer.TryWrite(work);

    /// <summary>Takes the socket off its client, as if its connection was lost (no DISCONNECT is sent).</summary>
    internal void Drop(string reason) => _client.Detach(this, reason);

    internal void HandleEvent(SocketIOPacketData packet)
    {
        var data = packet.Data!.Value;
        var name = data[0].ValueKind == JsonValueKind.String ? data[0].GetString()! : data[0].GetRawText();
        var args = SocketIOArgs.From(data, 1, packet.Attachments);
        Func<object?[], Task>? ack = packet.AckId is { } ackId
            ? values =>
            {
                _client.Send(SocketIOEncoding.AckFrame(Namespace.Name, ackId, values));
                return Task.CompletedTask;
            }
        : null;
        lock (_eventsLock)
        {
            _queuedEvents++;
        }

        Enqueue(async () =>
        {
            try
            {
                await HandleAsync(name, args, ack);
            }
            finally
            {
                EventHandled();
            }
        });
    }

    /// <summary>How many of the client's events wait for the handlers.</summary>
    internal int QueuedEvents
    {
        get
        {
            lock (_eventsLock)
            {
                return _queuedEvents;
            }
        }
    }

    /// <summary>
    /// Completes when the socket can take another event from its client: at once below
    /// <see cref="SocketIOOptions.MaxQueuedEvents"/> waiting (or when the socket is gone), else when a handler finishes.
    /// </summary>
    internal Task RoomForEventsAsync()
    {
        lock (_eventsLock)
        {
            if (_queuedEvents < Namespace.Server.Options.MaxQueuedEvents || Volatile.Read(ref _disconnected) == 1)
            {
                return Task.CompletedTask;
            }

            return (_roomForEvents ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    private void EventHandled()
    {
        TaskCompletionSource? room = null;
        lock (_eventsLock)
        {
            _queuedEvents--;
            if (_queuedEvents < Namespace.Server.Options.MaxQueuedEvents)
            {
                (room, _roomForEvents) = (_roomForEvents, null);
            }
        }

        room?.TrySetResult();
    }

    private async Task HandleAsync(string name, SocketIOArgs args, Func<object?[], Task>? ack)
    {
        Func<SocketIOEvent, Task>? handler;
        lock (_handlers)
        {
            _handlers.TryGetValue(name, out handler);
        }

        if (handler is null)
        {
            return;
        }

        if (ack is null && Namespace.Server.Hub.PipelinedSends > 0)
        {
            // Its client waits for nothing: the handler's emits to rooms and the namespace queue up behind the socket's
            // earlier ones, and the socket goes on to its next event. (Set here, the value flows into the handler and
            // is gone when this method returns.)
            HandlerPipeline.Value = this;
        }
        else if (_pipeline is { } pipeline)
        {
            // Its client waits for the answer: what it sends goes once what came before it has.
            await pipeline.DrainAsync();
        }

        using var activity = GatewayTracing.Source.HasListeners() ? StartEventSpan(name) : null;
        var e = new SocketIOEvent(this, name, args, ack);
        try
        {
            await handler(e);
        }
        catch (Exception ex) when (e.HasAck && !e.Acknowledged)
        {
            // A client that waits on its callback gets the failure, rather than waiting out its own timeout.
            await e.AckAsync(new { error = FailureOf(ex) });
            throw;
        }

        await SyncDataAsync();
    }

    /// <summary>The span of one event's handling; made only while a tracer listens (its name is a string made per event).</summary>
    private System.Diagnostics.Activity? StartEventSpan(string name)
    {
        var activity = GatewayTracing.Source.StartActivity("socket.io " + name, System.Diagnostics.ActivityKind.Server);
        activity?.SetTag("socketio.namespace", Namespace.Name);
        activity?.SetTag("socketio.socket", Id);
        return activity;
    }

    /// <summary>What a client's callback is told when the event's handler failed.</summary>
    private static string FailureOf(Exception exception) => exception switch
    {
        _ when Contracts.ClusterFailure.Is(exception) => "The cluster could not complete the event right now; try again.",
        Authorization.RealtimeForbiddenException or ArgumentException => exception.Message,
        _ => "The server could not handle the event.",
    };

    internal void HandleAck(SocketIOPacketData packet)
    {
        if (packet.AckId is { } id && _acks.TryRemove(id, out var answer))
        {
            answer.TrySetResult(SocketIOArgs.From(packet.Data, 0, packet.Attachments));
        }
    }

    /// <summary>
    /// Queues the connection handlers, to run once <paramref name="answered"/> says the client was told it is
    /// connected (not at all if it says false); events queued after them wait until they are done.
    /// </summary>
    internal void Start(IReadOnlyList<Func<Socket, Task>> handlers, Task<bool> answered) => Enqueue(async () =>
    {
        if (!await answered)
        {
            return;
        }

        foreach (var handler in handlers)
        {
            await handler(this);
        }

        await SyncDataAsync();
    });

    /// <summary>The socket is gone: its pending acknowledgements fail, its disconnect handlers run, it leaves the cluster.</summary>
    internal void Closed(string reason)
    {
        if (Interlocked.Exchange(ref _disconnected, 1) == 1)
        {
            return;
        }

        TaskCompletionSource? room;
        lock (_eventsLock)
        {
            (room, _roomForEvents) = (_roomForEvents, null);
        }

        room?.TrySetResult(); // nothing more is read for it

        foreach (var (_, answer) in _acks)
        {
            answer.TrySetException(new InvalidOperationException($"Socket {Id} disconnected ({reason}) before it acknowledged."));
        }

        Enqueue(async () =>
        {
            List<Func<string, Task>> handlers;
            lock (_handlers)
            {
                handlers = [.. _disconnectHandlers];
            }

            foreach (var handler in handlers)
            {
                await handler(reason);
            }
        });
        Enqueue(() => Namespace.Server.Hub.DisconnectAsync(Id, keepForResume: RecoverableReasons.Contains(reason)));
        Enqueue(() => Namespace.SocketLeft(this));
        Enqueue(() =>
        {
            _gone.TrySetResult();
            return Task.CompletedTask;
        });
        _work.Writer.TryComplete();
    }

    /// <summary>The reasons after which a client may recover its session, as socket.io has them: the connection was lost, not ended.</summary>
    internal static readonly IReadOnlySet<string> RecoverableReasons = new HashSet<string>(StringComparer.Ordinal)
    {
        "transport error", "transport close", "forced close", "ping timeout", "server shutting down", "forced server close",
    };

    /// <summary>Gives a recovered socket its data back, as its session grain holds it.</summary>
    internal void RestoreData(JsonElement? data)
    {
        if (data is { ValueKind: JsonValueKind.Object } value && JsonNode.Parse(value.GetRawText()) is JsonObject restored)
        {
            foreach (var (name, node) in restored.ToList())
            {
                restored.Remove(name);
                Data[name] = node;
            }
        }

        _syncedData = Data.ToJsonString();
    }

    /// <summary>
    /// <see cref="Data"/> as JSON when it changed since the last call (null when it did not, or is still empty),
    /// recorded as what the session grain holds.
    /// </summary>
    internal JsonElement? TakeChangedData()
    {
        var text = Data.ToJsonString();
        if (text == (_syncedData ?? "{}"))
        {
            return null;
        }

        _syncedData = text;
        return JsonDocument.Parse(text).RootElement;
    }

    private async Task SyncDataAsync()
    {
        if (Connection is not null && TakeChangedData() is { } data)
        {
            await Namespace.Server.Hub.SetDataAsync(Id, data);
        }
    }

    private async Task RunAsync()
    {
        await foreach (var work in _work.Reader.ReadAllAsync())
        {
            try
            {
                await work();
            }
            catch (Exception ex)
            {
                EngineLog.SocketHandlerFailed(_logger, Id, ex);
            }
        }
    }
}
