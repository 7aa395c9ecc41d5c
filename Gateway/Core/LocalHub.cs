using System.Collections.Concurrent;
using System.Text.Json;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;
using Realtime.Gateway.Observability;
using Realtime.Wire;

namespace Realtime.Gateway.Core;

/// <summary>
/// The delivery core of one hub on this gateway, whatever protocol its connections speak: the local connections and
/// their indexes by room, namespace and user, registration with the session, namespace and user grains, join and
/// leave, sends through the grains, the ordered delivery of what the grains push here, and the taking back of a
/// session (SignalR's resume, socket.io's recovery). A send is serialized here once; the grain that owns the target
/// pushes those bytes once to each gateway with recipients, and each gateway writes them to its local connections.
/// A send to a local connection never leaves the process. The SignalR lifetime manager and the socket.io server are
/// adapters over it and take it from dependency injection; <typeparamref name="THub"/> names the hub (its grain keys
/// start with the type's name). The type is public only so that a hub can take it in its constructor (SignalR makes
/// hubs through their public constructors); its members are internal.
/// </summary>
public sealed partial class LocalHub<THub> : ILocalHub
{
    /// <summary>How long a connection's registration is tried again while a node that its grains lived on is being declared dead.</summary>
    private static readonly TimeSpan RegistrationRetryTime = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan RegistrationRetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a leave waits for its room's notice; a room that died meanwhile never sends it.</summary>
    private static readonly TimeSpan LeaveNoticeTimeout = TimeSpan.FromSeconds(5);

    private static readonly string HubName = typeof(THub).Name;

    private readonly ConcurrentDictionary<string, LocalConnection> _connections = new(StringComparer.Ordinal);
    private readonly LocalIndex _rooms;
    private readonly LocalIndex _namespaces;
    private readonly LocalIndex _users;
    private readonly DeliveryOrder _hubOrder;
    private readonly GrainReferences _references;
    private readonly GatewayReceiver _receiver;
    private readonly PayloadSerializer _serializer;
    private readonly Realtime.Grains.Gateways.PayloadForms? _forms;
    private readonly SentLog? _sent;

    // Leaves waiting for their room's notice (see LeaveLocalAsync), by room key and connection id.
    private readonly ConcurrentDictionary<(string RoomKey, string ConnectionId), TaskCompletionSource> _leaving = new();
    private readonly TimeSpan _clientResultTimeout;
    private readonly RealtimeStreamsOptions _streams;
    private readonly TimeProvider _time;
    private bool _stopping;

    internal LocalHub(HubCoreServices services)
    {
        var options = services.Options.Value;
        _time = services.Time;
        Metrics = services.Metrics;
        _streams = services.Streams.Value;
        _references = new GrainReferences(services.Grains);
        _receiver = services.Receiver;
        _rooms = new LocalIndex(CreateOrder);
        _namespaces = new LocalIndex(CreateOrder);
        _users = new LocalIndex(CreateOrder);
        _hubOrder = CreateHubOrder();
        // Messages travel in the JSON form only; a gateway makes the other protocols' forms for its own connections.
        JsonProtocol = services.Protocols.AllProtocols.First(static p => p.Name == HubJson.ProtocolName);
        _serializer = new PayloadSerializer([JsonProtocol], options.MaxMessageBytes);
        _forms = services.Forms;
        _sent = services.Sent;
        Logger = services.Loggers.CreateLogger<LocalHub<THub>>();
        _clientResultTimeout = options.ClientResultTimeout;
        PipelinedSends = options.PipelinedSends;
        _receiver.Register(HubName, this);
        services.Lifetime.ApplicationStopping.Register(CloseForShutdown);
    }

    internal string GatewayId => _receiver.GatewayId;

    /// <summary>SignalR's JSON hub protocol, in which payloads carry their SignalR form.</summary>
    internal Microsoft.AspNetCore.SignalR.Protocol.IHubProtocol JsonProtocol { get; }

    /// <summary>
    /// True when this gateway may leave a socket.io emit's SignalR form to the gateways that deliver it: every gateway
    /// of the cluster says it makes that form itself (<see cref="Realtime.Grains.Gateways.PayloadForms"/>).
    /// </summary>
    internal bool SignalRFormsOnReceipt => _forms?.EveryGatewayMakesSignalRForms == true;

    internal GatewayMetrics Metrics { get; }

    /// <summary>The gateway's clock, for its adapters too.</summary>
    internal TimeProvider Time => _time;

    /// <summary>The hub's log, for its adapters too.</summary>
    internal ILogger Logger { get; }

    /// <summary>How many sends a connection may queue without waiting for them (<see cref="GatewayOptions.PipelinedSends"/>).</summary>
    internal int PipelinedSends { get; }

    /// <summary>True once the gateway is stopping: a new connection is sent elsewhere instead of being registered.</summary>
    internal bool IsStopping => Volatile.Read(ref _stopping);

    /// <summary>A connection on this gateway, or null.</summary>
    internal LocalConnection? Local(string connectionId) => _connections.TryGetValue(connectionId, out var local) ? local : null;

    /// <summary>
    /// Keeps a connection that was refused (bad namespace or credentials) without registering it anywhere, so that its
    /// protocol can tell the client why, and forgets it when it closes.
    /// </summary>
    internal void AddRefused(LocalConnection local) => _connections[local.ConnectionId] = local;

    /// <summary>
    /// Registers a connection of any protocol with this gateway and with its session, namespace and user grains;
    /// from then on it receives what is sent to it, its namespace, its user and the rooms it joins.
    /// </summary>
    internal async Task ConnectAsync(LocalConnection local)
    {
        var connectionId = local.ConnectionId;
        _connections[connectionId] = local;
        local.Counted = true;
        Metrics.Connected(local.Namespace, local.Protocol, local.Transport, +1);
        _namespaces.Add(GrainKeys.Namespace(HubName, local.Namespace), local);
        var member = local.Member;
        if (member.UserId is { } userId)
        {
            _users.Add(GrainKeys.User(HubName, userId), local);
        }

        // The gateway's registration with the hub goes on until the cluster answers; a connection waits for it as long
        // as it would wait for its own registration.
        await _receiver.EnsureRegisteredAsync(HubName).WaitAsync(RegistrationRetryTime, _time);
        var session = new SessionInfo(HubName, local.Namespace, member, [], local.Data);
        var namespaceKey = GrainKeys.Namespace(HubName, local.Namespace);

        // Registering is idempotent: a grain whose node died under the call is asked again once the cluster has
        // declared that node dead (a fraction of a second), rather than the connection failing for it.
        await RetriedWhileANodeDiesAsync(
            async () =>
            {
                var connected = _references.Get<INamespaceGrain>(namespaceKey).Connect(member);
                // A recoverable connection's session keeps what is sent to it from the start; any other connection's
                // session grain is made only when something asks for it (LocalConnection.ShareSession).
                var opened = local.RecoveryWindow is { } window ? OpenRecoverableAsync(local, session, window) : Task.CompletedTask;
                await Task.WhenAll(
                    opened,
                    connected,
                    member.UserId is { } user ? _references.Get<IUserGrain>(GrainKeys.User(HubName, user)).Connect(member) : Task.CompletedTask);
                local.Joined(namespaceKey, connected.Result);
                Seed(_namespaces, namespaceKey, connected.Result);
            },
            () => _connections.ContainsKey(connectionId),
            (attempt, ex) => GatewayLog.RegistrationRetried(Logger, connectionId, attempt, ex));

        GatewayLog.Connected(Logger, connectionId, HubName, local.Namespace);
    }

    /// <summary>
    /// Makes an idempotent call to the grains, again while it meets a node dying (an <see cref="OrleansException"/>)
    /// and <paramref name="wanted"/> holds, every <see cref="RegistrationRetryDelay"/> for up to
    /// <see cref="RegistrationRetryTime"/>: time for the cluster to declare the node dead and the grain to come back
    /// elsewhere. <paramref name="retried"/> logs each failed attempt; the last failure is thrown.
    /// </summary>
    private async Task RetriedWhileANodeDiesAsync(Func<Task> call, Func<bool> wanted, Action<int, Exception> retried)
    {
        var deadline = _time.GetUtcNow() + RegistrationRetryTime;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await call();
                return;
            }
            catch (Exception ex) when (ex is OrleansException && _time.GetUtcNow() < deadline && wanted())
            {
                retried(attempt, ex);
                await Task.Delay(RegistrationRetryDelay, _time);
            }
        }
    }

    private async Task OpenRecoverableAsync(LocalConnection local, SessionInfo session, TimeSpan window) =>
        local.RecoveryToken = await Session(local.ConnectionId).OpenRecoverable(session, window);

    /// <summary>
    /// Forgets a connection that closed: it leaves its rooms, namespace and user, and its session ends; a session that
    /// can be resumed or recovered is kept for its client unless <paramref name="keepForResume"/> is false (the client or
    /// the server ended it on purpose).
    /// </summary>
    internal async Task DisconnectAsync(string connectionId, bool keepForResume = true)
    {
        if (!_connections.TryRemove(connectionId, out var local))
        {
            return;
        }

        var roomKeys = local.Close();
        if (local.Counted)
        {
            Metrics.Connected(local.Namespace, local.Protocol, local.Transport, -1);
        }

        if (local.Rejection is not null)
        {
            return;
        }

        var namespaceKey = GrainKeys.Namespace(HubName, local.Namespace);
        var cleanup = new List<Task>(roomKeys.Length + 3);
        foreach (var roomKey in roomKeys)
        {
            cleanup.Add(LeaveGroupAsync(_rooms, roomKey, connectionId, () => Room(roomKey).Leave(local.Member)));
        }

        cleanup.Add(LeaveGroupAsync(_namespaces, namespaceKey, connectionId, () => _references.Get<INamespaceGrain>(namespaceKey).Disconnect(GatewayId, connectionId)));
        if (local.Member.UserId is { } userId)
        {
            var userKey = GrainKeys.User(HubName, userId);
            cleanup.Add(LeaveGroupAsync(_users, userKey, connectionId, () => _references.Get<IUserGrain>(userKey).Disconnect(GatewayId, connectionId)));
        }

        if (local.SessionShared)
        {
            cleanup.Add(Session(connectionId).Close(GatewayId, keepForResume));
        }

        try
        {
            await Task.WhenAll(cleanup);
        }
        catch (Exception ex)
        {
            GatewayLog.CleanupFailed(Logger, connectionId, ex);
        }
    }

    /// <summary>
    /// Takes a connection out of a group here, then tells the group's grain (<paramref name="leave"/>); a group left
    /// without local members keeps its delivery order until the grain has answered this and every other leave on its
    /// way (see <see cref="LocalIndex.RemoveKeeping"/>).
    /// </summary>
    private static async Task LeaveGroupAsync(LocalIndex index, string key, string connectionId, Func<Task> leave)
    {
        var leaving = index.RemoveKeeping(key, connectionId);
        try
        {
            await leave();
        }
        finally
        {
            index.Drop(key, leaving);
        }
    }

    /// <summary>
    /// Calls a method on one connection's client and returns its answer: a local connection is asked directly, one on
    /// another gateway through its session grain, within <see cref="GatewayOptions.ClientResultTimeout"/>.
    /// </summary>
    internal async Task<JsonElement> InvokeClientAsync(string connectionId, string method, JsonElement[] args, CancellationToken cancellationToken)
    {
        if (_connections.TryGetValue(connectionId, out var local))
        {
            return await local.InvokeAsync(method, args, cancellationToken);
        }

        return await Session(connectionId).InvokeClient(method, args, _clientResultTimeout).WaitAsync(cancellationToken);
    }

    async Task<JsonElement> ILocalHub.InvokeClientLocalAsync(string connectionId, string method, JsonElement[] args, TimeSpan timeout)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            throw new InvalidOperationException($"Connection {connectionId} is not on this gateway.");
        }

        using var deadline = new CancellationTokenSource(timeout, _time);
        try
        {
            return await local.InvokeAsync(method, args, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"The client of connection {connectionId} did not answer {method} within {timeout.TotalSeconds:0.###} s.");
        }
    }

    async Task<IReadOnlyList<JsonElement>> ILocalHub.InvokeClientsLocalAsync(IReadOnlyList<string> connectionIds, string method, JsonElement[] args, TimeSpan timeout)
    {
        var calls = new List<(string ConnectionId, Task<JsonElement> Answer)>(connectionIds.Count);
        foreach (var connectionId in connectionIds)
        {
            if (_connections.ContainsKey(connectionId))
            {
                calls.Add((connectionId, ((ILocalHub)this).InvokeClientLocalAsync(connectionId, method, args, timeout)));
            }
        }

        var answers = new List<JsonElement>(calls.Count);
        foreach (var (connectionId, call) in calls)
        {
            try
            {
                answers.Add(await call);
            }
            catch (Exception ex)
            {
                // Closed meanwhile, did not answer in time, or its client failed: no answer, which the asker counts
                // (socket.io's emitWithAck fails with the answers that came and how many were expected).
                GatewayLog.NoAnswerFromClient(Logger, connectionId, method, ex);
            }
        }

        return answers;
    }

    /// <summary>Calls a method on many connections' clients on other gateways, one call to each gateway; the answers that came in time.</summary>
    internal Task<IReadOnlyList<JsonElement>> InvokeClientsAsync(IReadOnlyList<Member> members, string method, JsonElement[] args, TimeSpan timeout) =>
        _references.Get<IConnectionsGrain>(HubName).InvokeClients(members, method, args, timeout);

    /// <summary>The namespace of a local connection, or null when it is not on this gateway.</summary>
    internal string? NamespaceOf(string connectionId) => _connections.TryGetValue(connectionId, out var local) ? local.Namespace : null;

    internal Task<IReadOnlyList<Member>> NamespaceMembersAsync(string @namespace) =>
        _references.Get<INamespaceGrain>(GrainKeys.Namespace(HubName, @namespace)).Members();

    /// <summary>A namespace's members with their sessions, each read from its gateway.</summary>
    internal Task<IReadOnlyList<SessionInfo>> NamespaceSessionsAsync(string @namespace) =>
        _references.Get<INamespaceGrain>(GrainKeys.Namespace(HubName, @namespace)).Sessions();

    internal Task SetDataAsync(string connectionId, JsonElement? data)
    {
        if (_connections.TryGetValue(connectionId, out var local))
        {
            local.Data = data;
            if (!local.SessionShared)
            {
                return Task.CompletedTask;
            }
        }

        return Session(connectionId).SetData(data);
    }

    GatewayStats ILocalHub.Stats(int maxRooms)
    {
        var connections = 0;
        foreach (var (_, local) in _connections)
        {
            connections += local.Rejection is null ? 1 : 0;
        }

        var rooms = _rooms.Counts();
        var largest = rooms.Count > maxRooms ? [.. rooms.OrderByDescending(r => r.Members).Take(maxRooms)] : rooms;
        return new GatewayStats(GatewayId, connections, _namespaces.Counts(), largest, rooms.Count > maxRooms);
    }

    bool ILocalHub.CloseLocal(string connectionId, string reason)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            return false;
        }

        local.Close(reason);
        return true;
    }

    bool ILocalHub.DisconnectLocal(string connectionId)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            return false;
        }

        local.Abort();
        return true;
    }

    private ISessionGrain Session(string connectionId) => _references.Get<ISessionGrain>(GrainKeys.Session(HubName, connectionId));

    private IRoomGrain Room(string roomKey) => _references.Get<IRoomGrain>(roomKey);
}
