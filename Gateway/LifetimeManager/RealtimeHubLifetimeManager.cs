using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Client.Emitting;
using Realtime.Gateway.Authentication;
using Realtime.Gateway.Hosting;
using Realtime.Gateway.Internal;
using Realtime.Grains;
using Realtime.Runtime;

namespace Realtime.Gateway.LifetimeManager;

/// <summary>
/// A <see cref="HubLifetimeManager{THub}"/> whose groups, users and broadcasts live in grains, so that ordinary
/// SignalR code reaches connections on every gateway. A send is serialized here once per protocol; the grain that
/// owns the target pushes those bytes once to each gateway with recipients, and each gateway writes them to its
/// local connections. A send to a local connection never leaves the process.
/// SignalR's group API addresses rooms of the default namespace <c>/</c>; namespaced rooms are reached through the
/// methods of this class that take a namespace.
/// </summary>
internal sealed class RealtimeHubLifetimeManager<THub> : HubLifetimeManager<THub>, ILocalHub where THub : Hub
{
    /// <summary>The client method a member of a closed room is called with (argument: the room name).</summary>
    public const string RoomClosedMethod = "roomClosed";

    /// <summary>The route value that carries the namespace, when the hub is mapped with one.</summary>
    public const string NamespaceRouteValue = "namespace";

    private static readonly string HubName = typeof(THub).Name;

    private readonly ConcurrentDictionary<string, LocalConnection> _connections = new(StringComparer.Ordinal);
    private readonly LocalIndex _rooms = new();
    private readonly LocalIndex _namespaces = new();
    private readonly LocalIndex _users = new();
    private readonly IGrainFactory _grains;
    private readonly GatewayReceiver _receiver;
    private static readonly JsonSerializerOptions ClientResultJson = new(JsonSerializerDefaults.Web);

    private readonly PayloadSerializer _serializer;
    private readonly ConcurrentDictionary<string, PendingClientResult> _clientResults = new(StringComparer.Ordinal);
    private readonly TimeSpan _clientResultTimeout;
    private long _nextClientResult;
    private readonly JwtOptions _jwt;
    private readonly ILogger _logger;
    private Task? _hubRegistration;
    private long _reassertGeneration;

    public RealtimeHubLifetimeManager(
        IGrainFactory grains,
        GatewayReceiver receiver,
        IHubProtocolResolver protocols,
        IOptions<GatewayOptions> options,
        IHostApplicationLifetime lifetime,
        IOptions<JwtOptions> jwt,
        ILogger<RealtimeHubLifetimeManager<THub>> logger,
        IClusterMembership? membership = null)
    {
        _grains = grains;
        _receiver = receiver;
        _serializer = new PayloadSerializer(protocols.AllProtocols, options.Value.MaxMessageBytes);
        _logger = logger;
        _jwt = jwt.Value;
        _clientResultTimeout = options.Value.ClientResultTimeout;
        receiver.Register(HubName, this);
        lifetime.ApplicationStopping.Register(CloseForShutdown);
        if (membership is not null)
        {
            membership.Changed += change => _ = ReassertAsync(change);
        }
    }

    public string GatewayId => _receiver.GatewayId;

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        var (@namespace, rejection) = ResolveNamespace(connection);
        rejection ??= Authenticate(connection, @namespace);
        var member = new Member(connection.ConnectionId, GatewayId, connection.UserIdentifier);
        var local = new LocalConnection(connection, @namespace, member, rejection);
        _connections[connection.ConnectionId] = local;
        if (rejection is not null)
        {
            // Registered nowhere; the hub filter refuses it with this reason.
            connection.Items[RealtimeHubFilter.RejectionItem] = rejection;
            GatewayLog.Refused(_logger, connection.ConnectionId, rejection);
            return;
        }

        _namespaces.Add(GrainKeys.Namespace(HubName, @namespace), connection);
        if (member.UserId is { } userId)
        {
            _users.Add(GrainKeys.User(HubName, userId), connection);
        }

        await EnsureHubRegisteredAsync();
        var gateway = _receiver.Reference;
        var session = new SessionInfo(HubName, @namespace, member, [], null);
        await Task.WhenAll(
            Session(connection.ConnectionId).Open(session, gateway),
            _grains.GetGrain<INamespaceGrain>(GrainKeys.Namespace(HubName, @namespace)).Connect(member, gateway),
            member.UserId is { } user ? _grains.GetGrain<IUserGrain>(GrainKeys.User(HubName, user)).Connect(member, gateway) : Task.CompletedTask);
        GatewayLog.Connected(_logger, connection.ConnectionId, HubName, @namespace);
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        if (!_connections.TryRemove(connection.ConnectionId, out var local))
        {
            return;
        }

        var roomKeys = local.Close();
        foreach (var (_, pending) in _clientResults)
        {
            if (pending.ConnectionId == connection.ConnectionId)
            {
                pending.Fail(new HubException("The connection closed before the client answered."));
            }
        }

        if (local.Rejection is not null)
        {
            return;
        }

        var connectionId = connection.ConnectionId;
        var namespaceKey = GrainKeys.Namespace(HubName, local.Namespace);
        _namespaces.Remove(namespaceKey, connectionId);
        var cleanup = new List<Task>(roomKeys.Length + 3);
        foreach (var roomKey in roomKeys)
        {
            _rooms.Remove(roomKey, connectionId);
            cleanup.Add(Room(roomKey).Leave(GatewayId, connectionId));
        }

        cleanup.Add(_grains.GetGrain<INamespaceGrain>(namespaceKey).Disconnect(GatewayId, connectionId));
        if (local.Member.UserId is { } userId)
        {
            var userKey = GrainKeys.User(HubName, userId);
            _users.Remove(userKey, connectionId);
            cleanup.Add(_grains.GetGrain<IUserGrain>(userKey).Disconnect(GatewayId, connectionId));
        }

        cleanup.Add(Session(connectionId).Close());
        try
        {
            await Task.WhenAll(cleanup);
        }
        catch (Exception ex)
        {
            GatewayLog.CleanupFailed(_logger, connectionId, ex);
        }
    }

    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        _grains.GetGrain<IHubGrain>(HubName).Publish(Serialize(methodName, args), null);

    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        _grains.GetGrain<IHubGrain>(HubName).Publish(Serialize(methodName, args), excludedConnectionIds);

    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendConnectionCoreAsync(connectionId, Serialize(methodName, args));

    public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        var payload = Serialize(methodName, args);
        var sends = new Task[connectionIds.Count];
        for (var i = 0; i < sends.Length; i++)
        {
            sends[i] = SendConnectionCoreAsync(connectionIds[i], payload);
        }

        return Task.WhenAll(sends);
    }

    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendRoomAsync(GrainKeys.DefaultNamespace, groupName, methodName, args, null);

    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        var payload = Serialize(methodName, args);
        var sends = new Task[groupNames.Count];
        for (var i = 0; i < sends.Length; i++)
        {
            sends[i] = Room(RoomKey(GrainKeys.DefaultNamespace, groupNames[i])).Publish(payload, null);
        }

        return Task.WhenAll(sends);
    }

    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        SendRoomAsync(GrainKeys.DefaultNamespace, groupName, methodName, args, excludedConnectionIds);

    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        _grains.GetGrain<IUserGrain>(GrainKeys.User(HubName, userId)).Publish(Serialize(methodName, args), null);

    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        var payload = Serialize(methodName, args);
        var sends = new Task[userIds.Count];
        for (var i = 0; i < sends.Length; i++)
        {
            sends[i] = _grains.GetGrain<IUserGrain>(GrainKeys.User(HubName, userIds[i])).Publish(payload, null);
        }

        return Task.WhenAll(sends);
    }

    /// <summary>
    /// SignalR client results: calls a method on one connection's client and waits for its answer. A connection on
    /// another gateway is reached through its session grain, within <see cref="GatewayOptions.ClientResultTimeout"/>.
    /// </summary>
    public override async Task<T> InvokeConnectionAsync<T>(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        if (_connections.TryGetValue(connectionId, out var local))
        {
            return await InvokeLocalAsync<T>(local, methodName, args, cancellationToken);
        }

        var arguments = args.Select(a => a is JsonElement element ? element : JsonSerializer.SerializeToElement(a, ClientResultJson)).ToArray();
        var answer = await Session(connectionId).InvokeClient(methodName, arguments, _clientResultTimeout).WaitAsync(cancellationToken);
        return answer.Deserialize<T>(ClientResultJson)!;
    }

    public override Task SetConnectionResultAsync(string connectionId, CompletionMessage result)
    {
        if (result.InvocationId is { } id && _clientResults.TryGetValue(id, out var pending) && pending.ConnectionId == connectionId)
        {
            if (result.HasResult)
            {
                pending.Complete(result.Result);
            }
            else
            {
                pending.Fail(new HubException(result.Error ?? "The client answered with an error."));
            }
        }

        return Task.CompletedTask;
    }

    public override bool TryGetReturnType(string invocationId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Type? type)
    {
        type = _clientResults.TryGetValue(invocationId, out var pending) ? pending.Type : null;
        return type is not null;
    }

    public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        JoinRoomAsync(connectionId, GrainKeys.DefaultNamespace, groupName);

    public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        LeaveRoomAsync(connectionId, GrainKeys.DefaultNamespace, groupName);

    /// <summary>The namespace of a local connection, or null when it is not on this gateway.</summary>
    public string? NamespaceOf(string connectionId) => _connections.TryGetValue(connectionId, out var local) ? local.Namespace : null;

    /// <summary>The rooms of a local connection within its own namespace.</summary>
    public IReadOnlyList<string> RoomsOf(string connectionId)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            return [];
        }

        var prefix = GrainKeys.Room(HubName, local.Namespace, "");
        var names = new List<string>();
        foreach (var key in local.RoomKeys())
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                names.Add(key[prefix.Length..]);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    public Task SendNamespaceAsync(string @namespace, string methodName, object?[] args, IReadOnlyList<string>? except) =>
        _grains.GetGrain<INamespaceGrain>(GrainKeys.Namespace(HubName, @namespace)).Publish(Serialize(methodName, args), except);

    public Task SendRoomAsync(string @namespace, string room, string methodName, object?[] args, IReadOnlyList<string>? except)
    {
        var roomKey = RoomKey(@namespace, room);
        return Room(roomKey).Publish(Serialize(methodName, args), except);
    }

    /// <summary>Makes a connection, local or on another gateway, join a room; false when no such connection is open.</summary>
    public Task<bool> JoinRoomAsync(string connectionId, string @namespace, string room)
    {
        var roomKey = RoomKey(@namespace, room);
        return _connections.TryGetValue(connectionId, out var local)
            ? JoinLocalAsync(local, roomKey)
            : Session(connectionId).JoinRoom(roomKey);
    }

    /// <summary>Makes a connection, local or on another gateway, leave a room; false when no such connection is open.</summary>
    public Task<bool> LeaveRoomAsync(string connectionId, string @namespace, string room)
    {
        var roomKey = RoomKey(@namespace, room);
        return _connections.TryGetValue(connectionId, out var local)
            ? LeaveLocalAsync(local, roomKey)
            : Session(connectionId).LeaveRoom(roomKey);
    }

    /// <summary>Closes a room: every member, on every gateway, leaves it and is told; returns how many there were.</summary>
    public Task<int> CloseRoomAsync(string @namespace, string room) => Room(RoomKey(@namespace, room)).Close();

    public Task<IReadOnlyList<Member>> RoomMembersAsync(string @namespace, string room) => Room(RoomKey(@namespace, room)).Members();

    public Task<IReadOnlyList<Member>> NamespaceMembersAsync(string @namespace) =>
        _grains.GetGrain<INamespaceGrain>(GrainKeys.Namespace(HubName, @namespace)).Members();

    public Task SetDataAsync(string connectionId, JsonElement? data)
    {
        if (_connections.TryGetValue(connectionId, out var local))
        {
            local.Data = data;
        }

        return Session(connectionId).SetData(data);
    }

    void ILocalHub.Deliver(Delivery delivery)
    {
        var message = ToHubMessage(delivery.Payload);
        var except = delivery.Except;
        switch (delivery.Target)
        {
            case DeliveryTarget.Connection:
                if (_connections.TryGetValue(delivery.Key, out var target))
                {
                    Write(target.Context, message);
                }

                return;
            case DeliveryTarget.Hub:
                foreach (var (connectionId, local) in _connections)
                {
                    if (local.Rejection is null && !IsExcluded(except, connectionId))
                    {
                        Write(local.Context, message);
                    }
                }

                return;
        }

        var index = delivery.Target switch
        {
            DeliveryTarget.Room => _rooms,
            DeliveryTarget.Namespace => _namespaces,
            _ => _users,
        };
        var members = index.Members(delivery.Key);
        if (members is null)
        {
            return;
        }

        foreach (var (connectionId, connection) in members)
        {
            if (!IsExcluded(except, connectionId))
            {
                Write(connection, message);
            }
        }
    }

    void ILocalHub.RoomClosed(string roomKey)
    {
        var members = _rooms.RemoveAll(roomKey);
        if (members is null)
        {
            return;
        }

        var notice = new SerializedHubMessage(new InvocationMessage(RoomClosedMethod, [GrainKeys.RoomName(roomKey)]));
        foreach (var (connectionId, connection) in members)
        {
            if (_connections.TryGetValue(connectionId, out var local) && local.RemoveRoom(roomKey))
            {
                _ = ForgetRoomAsync(connectionId, roomKey);
            }

            Write(connection, notice);
        }
    }

    Task<bool> ILocalHub.JoinLocalAsync(string connectionId, string roomKey) =>
        _connections.TryGetValue(connectionId, out var local) ? JoinLocalAsync(local, roomKey) : Task.FromResult(false);

    Task<bool> ILocalHub.LeaveLocalAsync(string connectionId, string roomKey) =>
        _connections.TryGetValue(connectionId, out var local) ? LeaveLocalAsync(local, roomKey) : Task.FromResult(false);

    async Task<JsonElement> ILocalHub.InvokeClientLocalAsync(string connectionId, string method, JsonElement[] args, TimeSpan timeout)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            throw new InvalidOperationException($"Connection {connectionId} is not on this gateway.");
        }

        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            return await InvokeLocalAsync<JsonElement>(local, method, [.. args.Cast<object?>()], deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"The client of connection {connectionId} did not answer {method} within {timeout.TotalSeconds:0.###} s.");
        }
    }

    bool ILocalHub.DisconnectLocal(string connectionId)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            return false;
        }

        local.Context.Abort();
        return true;
    }

    /// <summary>Serializes an invocation once per protocol, refusing what exceeds <see cref="GatewayOptions.MaxMessageBytes"/>.</summary>
    internal SerializedPayload Serialize(string methodName, object?[] args)
    {
        try
        {
            return _serializer.Serialize(methodName, args);
        }
        catch (MessageTooLargeException ex)
        {
            throw new HubException(ex.Message);
        }
    }

    /// <summary>
    /// The ring moved some grains to other silos (one died, joined or left): every grain this gateway has state in
    /// and that now lives elsewhere is told that state again, one call per grain. The grain on its new silo thus
    /// has every member it had, and no client has to join again. Silos learn of a change a little apart from each
    /// other, so a call that fails is tried again, until it succeeds or a newer change takes over.
    /// </summary>
    private async Task ReassertAsync(ClusterMembershipChange change)
    {
        var generation = Interlocked.Increment(ref _reassertGeneration);
        var pending = ReassertCalls(change);
        var delay = TimeSpan.FromMilliseconds(250);
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            var results = await Task.WhenAll(pending.Select(TryCallAsync));
            var failed = pending.Where((_, i) => results[i] is not null).ToList();
            GatewayLog.Reasserted(_logger, pending.Count - failed.Count, failed.Count);
            if (failed.Count == 0 || attempt == 20 || generation != Volatile.Read(ref _reassertGeneration))
            {
                if (failed.Count > 0 && generation == Volatile.Read(ref _reassertGeneration))
                {
                    GatewayLog.ReassertFailed(_logger, results.First(r => r is not null)!);
                }

                return;
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            pending = failed;
        }
    }

    private static async Task<Exception?> TryCallAsync(Func<Task> call)
    {
        try
        {
            await call();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private List<Func<Task>> ReassertCalls(ClusterMembershipChange change)
    {
        var gateway = _receiver.Reference;
        var calls = new List<Func<Task>>();
        if (_hubRegistration is not null && change.Moved(_grains.GetGrain<IHubGrain>(HubName).GetGrainId()))
        {
            calls.Add(() =>
            {
                _hubRegistration = null;
                return EnsureHubRegisteredAsync();
            });
        }

        foreach (var (connectionId, local) in _connections)
        {
            var session = Session(connectionId);
            if (local.Rejection is null && change.Moved(session.GetGrainId()))
            {
                calls.Add(() => local.IsClosed
                    ? Task.CompletedTask
                    : session.Open(new SessionInfo(HubName, local.Namespace, local.Member, local.RoomKeys(), local.Data), gateway));
            }
        }

        AddResyncCalls(change, _rooms, key => Room(key), calls);
        AddResyncCalls(change, _namespaces, key => _grains.GetGrain<INamespaceGrain>(key), calls);
        AddResyncCalls(change, _users, key => _grains.GetGrain<IUserGrain>(key), calls);
        return calls;
    }

    private void AddResyncCalls(ClusterMembershipChange change, LocalIndex index, Func<string, IGatewayMembers> grainOf, List<Func<Task>> calls)
    {
        foreach (var key in index.Keys)
        {
            var grain = grainOf(key);
            if (change.Moved(grain.GetGrainId()))
            {
                // The members are read when the call is made, so a retry carries joins and leaves made meanwhile.
                calls.Add(() => grain.SyncGateway(GatewayId, LocalMembers(index, key), _receiver.Reference));
            }
        }
    }

    private List<Member> LocalMembers(LocalIndex index, string key)
    {
        var members = new List<Member>();
        if (index.Members(key) is { } connections)
        {
            foreach (var (connectionId, _) in connections)
            {
                if (_connections.TryGetValue(connectionId, out var local))
                {
                    members.Add(local.Member);
                }
            }
        }

        return members;
    }

    /// <summary>
    /// Tells every client to reconnect (to another gateway) before this one stops. It runs while the host is
    /// stopping and waits, briefly, for the close messages to be written: SignalR closes connections on stopping
    /// too, and a connection closed first would never hear why.
    /// </summary>
    private void CloseForShutdown()
    {
        var close = new CloseMessage("The gateway is shutting down; reconnect.", allowReconnect: true);
        var writes = new List<Task>();
        foreach (var (_, local) in _connections)
        {
            writes.Add(local.Context.WriteAsync(close).AsTask());
        }

        try
        {
            Task.WaitAll(writes.ToArray(), TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
            // Some connections were already going away.
        }

        // A client closes on its own when told; give the frames time to leave before SignalR aborts what is left
        // (aborting here would cut the transport before it sent them).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (!_connections.IsEmpty && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
    }

    private async Task<T> InvokeLocalAsync<T>(LocalConnection local, string methodName, object?[] args, CancellationToken cancellationToken)
    {
        var id = "r" + Interlocked.Increment(ref _nextClientResult).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var pending = new PendingClientResult(local.Context.ConnectionId, typeof(T));
        _clientResults[id] = pending;
        try
        {
            using var cancel = cancellationToken.Register(static p => ((PendingClientResult)p!).Cancel(), pending);
            if (local.IsClosed)
            {
                throw new HubException("The connection closed before the client answered.");
            }

            await local.Context.WriteAsync(new InvocationMessage(id, methodName, args), cancellationToken);
            return (T)(await pending.Task)!;
        }
        finally
        {
            _clientResults.TryRemove(id, out _);
        }
    }

    private async Task<bool> JoinLocalAsync(LocalConnection local, string roomKey)
    {
        if (!local.TryAddRoom(roomKey, out var closed))
        {
            return !closed;
        }

        var connectionId = local.Context.ConnectionId;
        _rooms.Add(roomKey, local.Context);
        try
        {
            await Task.WhenAll(Room(roomKey).Join(local.Member, _receiver.Reference), Session(connectionId).AddRoom(roomKey));
        }
        catch
        {
            local.RemoveRoom(roomKey);
            _rooms.Remove(roomKey, connectionId);
            throw;
        }

        if (local.IsClosed)
        {
            // It disconnected while joining, and its cleanup may have reached the room first: leave again.
            _rooms.Remove(roomKey, connectionId);
            await Room(roomKey).Leave(GatewayId, connectionId);
            return false;
        }

        return true;
    }

    private async Task<bool> LeaveLocalAsync(LocalConnection local, string roomKey)
    {
        if (!local.RemoveRoom(roomKey))
        {
            return !local.IsClosed;
        }

        var connectionId = local.Context.ConnectionId;
        _rooms.Remove(roomKey, connectionId);
        await Task.WhenAll(Room(roomKey).Leave(GatewayId, connectionId), Session(connectionId).RemoveRoom(roomKey));
        return true;
    }

    private async Task ForgetRoomAsync(string connectionId, string roomKey)
    {
        try
        {
            await Session(connectionId).RemoveRoom(roomKey);
        }
        catch (Exception ex)
        {
            GatewayLog.CleanupFailed(_logger, connectionId, ex);
        }
    }

    private Task SendConnectionCoreAsync(string connectionId, SerializedPayload payload)
    {
        if (_connections.TryGetValue(connectionId, out var local))
        {
            return local.Context.WriteAsync(ToHubMessage(payload)).AsTask();
        }

        return Session(connectionId).Send(payload);
    }

    /// <summary>Registers this gateway with the hub's grain (again, if an earlier attempt failed).</summary>
    public Task RegisterGatewayAsync() => EnsureHubRegisteredAsync();

    private Task EnsureHubRegisteredAsync()
    {
        var registration = _hubRegistration;
        if (registration is null || registration.IsFaulted || registration.IsCanceled)
        {
            registration = _grains.GetGrain<IHubGrain>(HubName).AddGateway(GatewayId, _receiver.Reference);
            _hubRegistration = registration;
        }

        return registration;
    }

    /// <summary>Why the connection's credentials do not admit it to <paramref name="namespace"/>, or null when they do.</summary>
    private string? Authenticate(HubConnectionContext connection, string @namespace)
    {
        if (connection.GetHttpContext()?.Items[JwtAuthenticationHandler.FailureItem] is string failure)
        {
            return $"Authentication failed: {failure}";
        }

        return _jwt.Requires(@namespace) && connection.User?.Identity?.IsAuthenticated != true
            ? $"The namespace {@namespace} requires a token: pass a JWT as access_token or in the Authorization header."
            : null;
    }

    private static (string Namespace, string? Rejection) ResolveNamespace(HubConnectionContext connection)
    {
        if (connection.GetHttpContext()?.GetRouteValue(NamespaceRouteValue) is not string name)
        {
            return (GrainKeys.DefaultNamespace, null);
        }

        var error = Names.ValidateNamespace(name);
        return error is null ? ("/" + name, null) : (GrainKeys.DefaultNamespace, $"Invalid namespace: {error}");
    }

    private static string RoomKey(string @namespace, string room)
    {
        if (Names.ValidateRoom(room) is { } error)
        {
            throw new HubException($"Invalid room name: {error}");
        }

        return GrainKeys.Room(HubName, @namespace, room);
    }

    private static SerializedHubMessage ToHubMessage(SerializedPayload payload)
    {
        var messages = new SerializedMessage[payload.Protocols.Count];
        for (var i = 0; i < messages.Length; i++)
        {
            var protocolPayload = payload.Protocols[i];
            messages[i] = new SerializedMessage(protocolPayload.Protocol, protocolPayload.Bytes);
        }

        return new SerializedHubMessage(messages);
    }

    private static bool IsExcluded(IReadOnlyList<string>? except, string connectionId)
    {
        if (except is null)
        {
            return false;
        }

        for (var i = 0; i < except.Count; i++)
        {
            if (string.Equals(except[i], connectionId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private void Write(HubConnectionContext connection, SerializedHubMessage message)
    {
        var write = connection.WriteAsync(message);
        if (!write.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(write, connection.ConnectionId);
        }
    }

    private async Task ObserveAsync(ValueTask write, string connectionId)
    {
        try
        {
            await write;
        }
        catch (Exception ex)
        {
            GatewayLog.WriteFailed(_logger, connectionId, ex);
        }
    }

    private ISessionGrain Session(string connectionId) => _grains.GetGrain<ISessionGrain>(GrainKeys.Session(HubName, connectionId));

    private IRoomGrain Room(string roomKey) => _grains.GetGrain<IRoomGrain>(roomKey);
}
