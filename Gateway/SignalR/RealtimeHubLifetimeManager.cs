using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Realtime.Contracts;
using Realtime.Gateway.Authentication;
using Realtime.Gateway.Core;
using Realtime.Gateway.Http;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.SignalR;

/// <summary>
/// SignalR's <see cref="HubLifetimeManager{THub}"/> over the hub's delivery core (<see cref="LocalHub{THub}"/>), whose
/// groups, users and broadcasts live in grains, so that ordinary SignalR code reaches connections on every gateway.
/// It admits SignalR connections (namespace from the route, credentials) and keeps SignalR's client results; the rest
/// is the core's. SignalR's group API addresses rooms of the default namespace <c>/</c>; namespaced rooms are reached
/// through the core.
/// </summary>
internal sealed partial class RealtimeHubLifetimeManager<THub>(
    HubCores cores,
    IOptions<GatewayOptions> options,
    IOptions<JwtOptions> jwt,
    OpenConnections open,
    ILogger<RealtimeHubLifetimeManager<THub>> logger) : HubLifetimeManager<THub>, SignalRConnection.IClientResults
    where THub : Hub
{
    /// <summary>The route value that carries the namespace, when the hub is mapped with one.</summary>
    public const string NamespaceRouteValue = "namespace";

    private readonly LocalHub<THub> _hub = cores.For<THub>();
    private readonly ConcurrentDictionary<string, PendingClientResult> _clientResults = new(StringComparer.Ordinal);
    private readonly long _maxBufferedBytes = options.Value.MaxBufferedBytes;
    private long _nextClientResult;

    public override Task OnConnectedAsync(HubConnectionContext connection)
    {
        open.SignalRConnected();
        if (_hub.IsStopping)
        {
            // The gateway is draining: this connection would hold its shutdown up. Send it elsewhere, registered nowhere.
            return SignalRConnection.RefuseForShutdownAsync(connection);
        }

        var (@namespace, rejection) = ResolveNamespace(connection);
        rejection ??= Authenticate(connection, @namespace);
        var member = new Member(connection.ConnectionId, _hub.GatewayId, connection.UserIdentifier);
        var local = new SignalRConnection(connection, @namespace, member, rejection, this, _hub.Metrics, _maxBufferedBytes, _hub.JsonProtocol, logger);
        if (rejection is not null)
        {
            _hub.Metrics.Rejected(RejectionReason.ConnectionRefused);
            // Registered nowhere; the hub filter refuses it with this reason.
            _hub.AddRefused(local);
            connection.Features.Set(new Rejection(rejection));
            GatewayLog.Refused(logger, connection.ConnectionId, rejection);
            return Task.CompletedTask;
        }

        return ConnectOrRefuseAsync(connection, local);
    }

    /// <summary>
    /// Registers the connection with the cluster; when the cluster cannot take it, the client is told why and the
    /// connection closed (the hub filter refuses it with the reason), rather than cut off without a word.
    /// </summary>
    private async Task ConnectOrRefuseAsync(HubConnectionContext connection, SignalRConnection local)
    {
        try
        {
            await _hub.ConnectAsync(local);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            const string reason = "The cluster is not available; try again.";
            _hub.Metrics.Rejected(RejectionReason.ClusterUnavailable);
            connection.Features.Set(new Rejection(reason));
            GatewayLog.Refused(logger, connection.ConnectionId, $"{reason} ({ex.Message})");
        }
    }

    public override Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        open.SignalRDisconnected();

        // The core closes the connection before its first wait; then no client result can start on it.
        var disconnected = _hub.DisconnectAsync(connection.ConnectionId);
        foreach (var (_, pending) in _clientResults)
        {
            if (pending.ConnectionId == connection.ConnectionId)
            {
                pending.Fail(new HubException("The connection closed before the client answered."));
            }
        }

        return disconnected;
    }

    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        _hub.SendHubAsync(_hub.Serialize(methodName, args), null);

    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        _hub.SendHubAsync(_hub.Serialize(methodName, args), excludedConnectionIds);

    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        _hub.SendConnectionAsync(connectionId, _hub.Serialize(methodName, args));

    public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        var payload = _hub.Serialize(methodName, args);
        var sends = new Task[connectionIds.Count];
        for (var i = 0; i < sends.Length; i++)
        {
            sends[i] = _hub.SendConnectionAsync(connectionIds[i], payload);
        }

        return Task.WhenAll(sends);
    }

    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        _hub.SendRoomAsync(GrainKeys.DefaultNamespace, groupName, methodName, args, null);

    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        var payload = _hub.Serialize(methodName, args);
        var sends = new Task[groupNames.Count];
        for (var i = 0; i < sends.Length; i++)
        {
            sends[i] = _hub.SendRoomAsync(LocalHub<THub>.RoomKey(GrainKeys.DefaultNamespace, groupNames[i]), payload, null);
        }

        return Task.WhenAll(sends);
    }

    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        _hub.SendRoomAsync(GrainKeys.DefaultNamespace, groupName, methodName, args, excludedConnectionIds);

    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        _hub.SendUserAsync(userId, _hub.Serialize(methodName, args));

    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        var payload = _hub.Serialize(methodName, args);
        var sends = new Task[userIds.Count];
        for (var i = 0; i < sends.Length; i++)
        {
            sends[i] = _hub.SendUserAsync(userIds[i], payload);
        }

        return Task.WhenAll(sends);
    }

    public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        _hub.JoinRoomAsync(connectionId, GrainKeys.DefaultNamespace, groupName);

    public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        _hub.LeaveRoomAsync(connectionId, GrainKeys.DefaultNamespace, groupName);

    /// <summary>Why the connection's credentials do not admit it to <paramref name="namespace"/>, or null when they do.</summary>
    private string? Authenticate(HubConnectionContext connection, string @namespace)
    {
        if (connection.GetHttpContext()?.Items[JwtBearerSetup.FailureItem] is string failure)
        {
            return $"Authentication failed: {failure}";
        }

        return jwt.Value.Requires(@namespace) && connection.User?.Identity?.IsAuthenticated != true
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
}
