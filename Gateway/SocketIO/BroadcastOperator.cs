using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.SignalR;
using Realtime.Gateway.SocketIO.Internal;
using Realtime.Wire;

namespace Realtime.Gateway.SocketIO;

/// <summary>
/// Who a broadcast goes to, as socket.io's <c>io.to(...).except(...)</c>: the sockets of a namespace, on every
/// gateway, narrowed to some rooms (a socket in several gets the message once), without the sockets of other rooms
/// or given sockets. Immutable: each call returns a new operator. SignalR connections of the same namespace and
/// rooms receive the message too, on the <c>event</c> method.
/// </summary>
public sealed class BroadcastOperator
{
    private readonly SocketIONamespace _namespace;
    private readonly ImmutableArray<string> _rooms;
    private readonly ImmutableArray<string> _exceptRooms;
    private readonly ImmutableArray<string> _exceptSockets;
    private readonly TimeSpan? _timeout;
    private readonly string? _from;

    internal BroadcastOperator(SocketIONamespace @namespace)
        : this(@namespace, [], [], [], null, null)
    {
    }

    private BroadcastOperator(SocketIONamespace @namespace, ImmutableArray<string> rooms, ImmutableArray<string> exceptRooms, ImmutableArray<string> exceptSockets, TimeSpan? timeout, string? from)
    {
        _namespace = @namespace;
        _rooms = rooms;
        _exceptRooms = exceptRooms;
        _exceptSockets = exceptSockets;
        _timeout = timeout;
        _from = from;
    }

    public BroadcastOperator To(string room) => new(_namespace, _rooms.Add(SocketIONamespace.CheckRoom(room)), _exceptRooms, _exceptSockets, _timeout, _from);

    public BroadcastOperator To(IEnumerable<string> rooms) => rooms.Aggregate(this, (op, room) => op.To(room));

    public BroadcastOperator In(string room) => To(room);

    public BroadcastOperator Except(string room) => new(_namespace, _rooms, _exceptRooms.Add(SocketIONamespace.CheckRoom(room)), _exceptSockets, _timeout, _from);

    public BroadcastOperator Except(IEnumerable<string> rooms) => rooms.Aggregate(this, (op, room) => op.Except(room));

    /// <summary>How long <see cref="EmitWithAckAsync"/> waits for every client's acknowledgement.</summary>
    public BroadcastOperator Timeout(TimeSpan timeout) => new(_namespace, _rooms, _exceptRooms, _exceptSockets, timeout, _from);

    internal BroadcastOperator ExceptSocket(string socketId) => new(_namespace, _rooms, _exceptRooms, _exceptSockets.Add(socketId), _timeout, _from);

    internal BroadcastOperator From(string socketId) => new(_namespace, _rooms, _exceptRooms, _exceptSockets, _timeout, socketId);

    /// <summary>
    /// Sends the event to every selected socket (and SignalR connection), on every gateway. Within the handler of a
    /// client's event that carries no acknowledgement callback, the send is queued behind the socket's earlier ones
    /// and this completes at once (see <see cref="GatewayOptions.PipelinedSends"/>); a failure is then told to the
    /// client as the event <c>realtime:sendFailed</c>. Otherwise it completes when the cluster took the message.
    /// </summary>
    public Task EmitAsync(string eventName, params object?[] args)
    {
        SocketIONamespace.CheckEventName(eventName);
        return Emit(eventName, SocketIOEncoding.SerializeEvent(eventName, args));
    }

    /// <summary>
    /// Sends the event with one argument, serialized by its JSON metadata (a source-generated
    /// <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>'s, say) instead of by reflection; otherwise
    /// as <see cref="EmitAsync(string, object?[])"/>.
    /// </summary>
    public Task EmitAsync<T>(string eventName, T data, JsonTypeInfo<T> typeInfo)
    {
        SocketIONamespace.CheckEventName(eventName);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return Emit(eventName, SocketIOEncoding.SerializeEvent(eventName, data, typeInfo));
    }

    private Task Emit(string eventName, ProtocolPayload socketIO)
    {
        var payload = Serialize(socketIO);
        var hub = _namespace.Server.Hub;
        IReadOnlyList<string>? except = _exceptSockets.IsEmpty ? null : _exceptSockets;
        if (_rooms.Length == 1 && _exceptRooms.IsEmpty)
        {
            var room = _rooms[0];
            if (SocketIONamespace.CouldBeSocketId(room) && !_exceptSockets.Contains(room))
            {
                // A socket's id names a room only it is in, without a room grain: reach it directly.
                return Task.WhenAll(hub.SendRoomAsync(Key(room), payload, except), hub.SendConnectionAsync(room, payload));
            }

            return Send(hub.RoomPublication(Key(room), payload, except), new PipelinedSend(room, eventName));
        }

        var filter = _rooms.IsEmpty && _exceptRooms.IsEmpty ? null : new RoomFilter([.. _rooms.Distinct().Select(Key)], [.. _exceptRooms.Select(Key)]);
        return Send(hub.NamespacePublication(_namespace.Name, payload, except, filter), new PipelinedSend(_rooms.Length == 1 ? _rooms[0] : null, eventName));
    }

    private Task Send((IMemberGroupGrain Target, Publication Publication) send, PipelinedSend what) =>
        Socket.PipelineOfHandler() is { } pipeline ? pipeline.Add(send.Target, send.Publication, what) : _namespace.Server.Hub.Publish(send.Target, send.Publication);

    /// <summary>
    /// Sends the event to every selected socket and waits for each one's acknowledgement (one argument as itself,
    /// several as an array, binary in base64). Fails with <see cref="SocketIOAckTimeoutException"/>, which holds
    /// the answers that came, when some do not answer within the timeout.
    /// </summary>
    public async Task<IReadOnlyList<JsonElement>> EmitWithAckAsync(string eventName, params object?[] args)
    {
        SocketIONamespace.CheckEventName(eventName);
        var timeout = _timeout ?? _namespace.Server.Options.AckTimeout;
        var targets = await TargetsAsync();
        var server = _namespace.Server;

        // This gateway's sockets directly (binary as attachments); every other connection through its gateway, one call
        // to each gateway (binary in base64, as JSON carries it).
        var calls = new List<Task<JsonElement>>(targets.Count);
        var others = new List<Member>();
        foreach (var target in targets)
        {
            if (server.LocalSocket(target.ConnectionId) is { } local)
            {
                calls.Add(AnswerOfAsync(local, eventName, args, timeout));
            }
            else
            {
                others.Add(target);
            }
        }

        var fromOthers = others.Count > 0 ? server.Hub.InvokeClientsAsync(others, eventName, JsonData.ToElements(args), timeout) : null;
        var responses = new List<JsonElement>(targets.Count);
        foreach (var call in calls)
        {
            try
            {
                responses.Add(await call);
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
            {
                // Disconnected, or did not answer in time: counted as missing below.
            }
        }

        if (fromOthers is not null)
        {
            try
            {
                responses.AddRange(await fromOthers);
            }
            catch (Exception ex) when (Contracts.ClusterFailure.Is(ex))
            {
                // Counted as missing below.
            }
        }

        return responses.Count == targets.Count ? responses : throw new SocketIOAckTimeoutException(responses, targets.Count);
    }

    private static async Task<JsonElement> AnswerOfAsync(Socket socket, string eventName, object?[] args, TimeSpan timeout) =>
        (await socket.EmitWithAckAsync(eventName, args, timeout)).ToJson();

    /// <summary>The selected sockets, on every gateway, with their data and rooms.</summary>
    /// <remarks>
    /// The sessions of a namespace's or room's members are read from the gateways that hold them, one call to each
    /// (<see cref="IMemberGroupGrain.Sessions"/>); a socket named by its id, from its session.
    /// </remarks>
    public async Task<IReadOnlyList<RemoteSocket>> FetchSocketsAsync()
    {
        var hub = _namespace.Server.Hub;
        var name = _namespace.Name;
        var excluded = ExcludedAsync();
        IEnumerable<SessionInfo?> found;
        if (_rooms.IsEmpty)
        {
            found = await hub.NamespaceSessionsAsync(name);
        }
        else
        {
            var rooms = Task.WhenAll(_rooms.Where(r => !SocketIONamespace.CouldBeSocketId(r)).Select(r => hub.RoomSessionsAsync(name, r)));
            var sockets = Task.WhenAll(_rooms.Where(SocketIONamespace.CouldBeSocketId).Select(id => _namespace.Server.Cluster.GetConnectionAsync(id)));
            found = (await rooms).SelectMany(static s => s).Concat(await sockets);
        }

        var leftOut = await excluded;
        var sessions = new List<RemoteSocket>();
        foreach (var session in found)
        {
            if (session is not null && leftOut.Add(session.Member.ConnectionId))
            {
                sessions.Add(new RemoteSocket(_namespace, session)); // added to those left out: a socket in two rooms is found once
            }
        }

        return sessions;
    }

    /// <summary>Makes every selected socket join a room: each gateway is asked once for its sockets.</summary>
    public async Task SocketsJoinAsync(string room) => await ActAsync(ConnectionAction.JoinRoom(Key(SocketIONamespace.CheckRoom(room))));

    /// <summary>Makes every selected socket leave a room: each gateway is asked once for its sockets.</summary>
    public async Task SocketsLeaveAsync(string room) => await ActAsync(ConnectionAction.LeaveRoom(Key(SocketIONamespace.CheckRoom(room))));

    /// <summary>Disconnects every selected socket from the namespace (<c>io server disconnect</c>): each gateway is asked once for its sockets.</summary>
    public Task DisconnectSocketsAsync() => ActAsync(ConnectionAction.Disconnect);

    private async Task ActAsync(ConnectionAction action) => await _namespace.Server.Hub.ActAsync(await TargetsAsync(), action);

    /// <summary>The selected connections, from the grains, each once; a socket named by its id has no gateway (an empty id).</summary>
    private async Task<List<Member>> TargetsAsync()
    {
        var hub = _namespace.Server.Hub;
        var name = _namespace.Name;
        IEnumerable<Member> members;
        if (_rooms.IsEmpty)
        {
            members = await hub.NamespaceMembersAsync(name);
        }
        else
        {
            var rooms = await Task.WhenAll(_rooms.Where(r => !SocketIONamespace.CouldBeSocketId(r)).Select(r => hub.RoomMembersAsync(name, r)));
            var sockets = _rooms.Where(SocketIONamespace.CouldBeSocketId).Select(id => new Member(id, "", null));
            members = rooms.SelectMany(m => m).Concat(sockets);
        }

        var excluded = await ExcludedAsync();
        return [.. members.Where(m => excluded.Add(m.ConnectionId))]; // added to those left out: a socket in two rooms is selected once
    }

    /// <summary>The ids of the sockets left out: those given, and the members of the rooms left out (a socket's id is its own room).</summary>
    private async Task<HashSet<string>> ExcludedAsync()
    {
        var excluded = new HashSet<string>(_exceptSockets, StringComparer.Ordinal);
        foreach (var room in _exceptRooms)
        {
            excluded.Add(room);
            foreach (var member in await _namespace.Server.Hub.RoomMembersAsync(_namespace.Name, room))
            {
                excluded.Add(member.ConnectionId);
            }
        }

        return excluded;
    }

    private SerializedPayload Serialize(ProtocolPayload socketIO)
    {
        var hub = _namespace.Server.Hub;
        CheckSize(socketIO.Bytes.Length);
        var origin = new EventOrigin(_namespace.Name, _rooms.Length == 1 ? _rooms[0] : null, _from ?? "server");
        if (hub.SignalRFormsOnReceipt)
        {
            // Every gateway makes the SignalR form for its own SignalR recipients, if it has any: the payload carries
            // the socket.io form alone, and a room of socket.io clients never pays for the other.
            return new SerializedPayload([socketIO], DateTime.UtcNow.Ticks) { Event = origin };
        }

        var signalR = SocketIOEncoding.SignalRForm(socketIO, origin, hub.JsonProtocol);
        CheckSize(signalR.Length);
        return new SerializedPayload([new ProtocolPayload(HubJson.ProtocolName, signalR), socketIO], DateTime.UtcNow.Ticks);
    }

    private void CheckSize(int bytes)
    {
        if (bytes > _namespace.Server.MaxMessageBytes)
        {
            throw new ArgumentException($"The message is {bytes} bytes, more than the limit of {_namespace.Server.MaxMessageBytes} bytes (Gateway:MaxMessageBytes).");
        }
    }

    private string Key(string room) => LocalHub<RealtimeHub>.RoomKeyOf(_namespace.Name, room);
}
