using System.ComponentModel;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Realtime.Contracts;
using Realtime.Gateway.Authorization;
using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;
using Realtime.Wire;

namespace Realtime.Gateway.SignalR;

/// <summary>
/// The ready-made hub: the socket.io-style operations over the grains. Connect to <c>{HubPath}</c> for the default
/// namespace or <c>{HubPath}/{name}</c> for namespace <c>/name</c>; namespaces exist as soon as someone connects.
/// Application messages arrive on the client method <c>event</c> as a <see cref="RealtimeEvent"/>.
/// </summary>
public sealed class RealtimeHub : Hub
{
    /// <summary>The client method that application messages arrive on.</summary>
    public const string EventMethod = "event";

    /// <summary>The client method called just before a requested disconnect.</summary>
    public const string DisconnectingMethod = "disconnecting";

    private static readonly System.Security.Claims.ClaimsPrincipal Anonymous = new();

    private readonly LocalHub<RealtimeHub> _realtime;
    private readonly RealtimePermissions _permissions;

    public RealtimeHub(LocalHub<RealtimeHub> realtime, RealtimePermissions permissions)
    {
        _realtime = realtime;
        _permissions = permissions;
    }

    private string Namespace => _realtime.NamespaceOf(Context.ConnectionId) ?? GrainKeys.DefaultNamespace;

    /// <summary>
    /// The caller's connection id. A client that skips negotiation (as behind a round-robin balancer) does not learn
    /// its id otherwise.
    /// </summary>
    public string ConnectionId() => Context.ConnectionId;

    /// <summary>
    /// The gateway the caller is connected to: <c>{Gateway:Name}@{its silo address}</c>. Behind a load balancer, two tabs
    /// on two gateways are told apart by it.
    /// </summary>
    public string Gateway() => _realtime.GatewayId;

    /// <summary>Sends an event back to the caller only.</summary>
    public Task Echo(string eventName, JsonElement data) =>
        _realtime.SendConnectionAsync(Context.ConnectionId, _realtime.Serialize(EventMethod, [Event(eventName, data, null)]));

    /// <summary>Sends an event to every connection of the caller's namespace, on every gateway, the caller included.</summary>
    public async Task Broadcast(string eventName, JsonElement data)
    {
        await AuthorizeAsync(RealtimeOperation.Broadcast, null);
        var (grain, publication) = BroadcastPublication(eventName, data);
        await _realtime.Publish(grain, publication);
    }

    /// <summary>
    /// <see cref="Broadcast"/> for a client's <c>send</c>, which does not wait: the gateway queues it and goes on with
    /// the client's next message (see <see cref="GatewayOptions.PipelinedSends"/>).
    /// </summary>
    [HubMethodName(HubSendPipeline.MethodPrefix + nameof(Broadcast))]
    [PipelinedSend(EventArgument = 0)]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public async Task BroadcastPipelined(string eventName, JsonElement data)
    {
        await AuthorizeAsync(RealtimeOperation.Broadcast, null);
        await Pipeline(BroadcastPublication(eventName, data), new PipelinedSend(null, eventName));
    }

    /// <summary>Joins a room of the caller's namespace; returns the caller's rooms.</summary>
    public async Task<IReadOnlyList<string>> Join(string room)
    {
        await AuthorizeAsync(RealtimeOperation.Join, room);
        await _realtime.JoinRoomAsync(Context.ConnectionId, Namespace, room);
        return _realtime.RoomsOf(Context.ConnectionId);
    }

    /// <summary>Leaves a room; returns the caller's rooms.</summary>
    public async Task<IReadOnlyList<string>> Leave(string room)
    {
        await _realtime.LeaveRoomAsync(Context.ConnectionId, Namespace, room);
        return _realtime.RoomsOf(Context.ConnectionId);
    }

    /// <summary>Sends an event to every member of a room, on every gateway; the caller need not be a member.</summary>
    public async Task SendToRoom(string room, string eventName, JsonElement data)
    {
        await AuthorizeAsync(RealtimeOperation.Send, room);
        var (grain, publication) = RoomPublication(room, eventName, data);
        await _realtime.Publish(grain, publication);
    }

    /// <summary><see cref="SendToRoom"/> for a client's <c>send</c>, which does not wait (see <see cref="BroadcastPipelined"/>).</summary>
    [HubMethodName(HubSendPipeline.MethodPrefix + nameof(SendToRoom))]
    [PipelinedSend(RoomArgument = 0, EventArgument = 1)]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public async Task SendToRoomPipelined(string room, string eventName, JsonElement data)
    {
        await AuthorizeAsync(RealtimeOperation.Send, room);
        await Pipeline(RoomPublication(room, eventName, data), new PipelinedSend(room, eventName));
    }

    /// <summary>Closes a room: every member, on every gateway, leaves it and receives <c>roomClosed</c>; returns how many there were.</summary>
    public async Task<int> CloseRoom(string room)
    {
        await AuthorizeAsync(RealtimeOperation.Close, room);
        return await _realtime.CloseRoomAsync(Namespace, room);
    }

    /// <summary>The caller's rooms.</summary>
    public IReadOnlyList<string> Rooms() => _realtime.RoomsOf(Context.ConnectionId);

    /// <summary>The members of a room of the caller's namespace, on every gateway.</summary>
    public async Task<IReadOnlyList<PresenceEntry>> Presence(string room)
    {
        await AuthorizeAsync(RealtimeOperation.Presence, room);
        var members = await _realtime.RoomMembersAsync(Namespace, room);
        return ToPresence(members);
    }

    /// <summary>The connections of the caller's namespace, on every gateway.</summary>
    public async Task<IReadOnlyList<PresenceEntry>> NamespacePresence()
    {
        await AuthorizeAsync(RealtimeOperation.Presence, null);
        return ToPresence(await _realtime.NamespaceMembersAsync(Namespace));
    }

    /// <summary>
    /// Makes the caller's session resumable and returns what its client keeps to take it back after a reconnect, on
    /// any gateway, within <c>History:ResumeWindow</c>: <c>{ connectionId, token }</c>.
    /// </summary>
    public async Task<ResumeTicket> Session() => new(Context.ConnectionId, await _realtime.ResumeTokenAsync(Context.ConnectionId));

    /// <summary>
    /// Takes back a previous connection's session (from <see cref="Session"/>): its rooms, its data, and, room by room
    /// and in order, the messages its client missed after <paramref name="positions"/> (the <c>seq</c> and
    /// <c>epoch</c> of the last <c>event</c> it got from each room, and from the namespace with <c>room</c> null).
    /// </summary>
    public Task<ResumeResult> Resume(string connectionId, string token, ResumePosition?[]? positions) =>
        _realtime.ResumeAsync(Context.ConnectionId, connectionId, token, positions ?? []);

    /// <summary>Closes the caller's connection from the server side.</summary>
    public async Task Disconnect()
    {
        if (_realtime.Local(Context.ConnectionId) is SignalRConnection local)
        {
            // The reason arrives before the close.
            await local.DisconnectAsync("requested");
        }
        else
        {
            Context.Abort();
        }
    }

    /// <summary>Queues a send on the connection's <see cref="SendPipeline"/> (or sends it at once, with pipelining off).</summary>
    private Task Pipeline((IMemberGroupGrain Target, Publication Publication) send, PipelinedSend what)
    {
        if (_realtime.PipelinedSends == 0)
        {
            return _realtime.Publish(send.Target, send.Publication);
        }

        return HubSendPipeline.Of(Context, _realtime).Add(send.Target, send.Publication, what);
    }

    /// <summary>
    /// Tells a connection that a send it did not wait for failed (<see cref="HubSendPipeline.FailedMethod"/>), and counts
    /// it: nobody waits for its answer, so without this the client would never learn of it.
    /// </summary>
    internal static void SendFailed(LocalHub<RealtimeHub> realtime, string connectionId, PipelinedSend send, Exception error)
    {
        var (reason, tag) = error switch
        {
            _ when ClusterFailure.Is(error) => SendFailure.Of(error),
            ClusterUnavailableHubException => (error.Message, RejectionReason.ClusterUnavailable),
            RateLimitedHubException => (error.Message, RejectionReason.RateLimited),
            ForbiddenHubException => (error.Message, RejectionReason.Forbidden),
            HubException hub => (hub.Message, RealtimeHubFilter.Reason(hub) ?? RejectionReason.HubError),
            _ => SendFailure.Of(error),
        };
        realtime.Metrics.SendFailed(tag);
        var notice = realtime.Serialize(HubSendPipeline.FailedMethod, [new SendFailure(send.Room, send.Event, reason)]);
        _ = realtime.SendConnectionAsync(connectionId, notice).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    /// <summary>Refuses, with a clear error on this call, what the namespace's permissions do not allow the caller.</summary>
    private ValueTask AuthorizeAsync(RealtimeOperation operation, string? room) =>
        _permissions.IsOpen ? ValueTask.CompletedTask : CheckAsync(operation, room);

    private async ValueTask CheckAsync(RealtimeOperation operation, string? room)
    {
        var isMember = room is not null && _realtime.RoomsOf(Context.ConnectionId).Contains(room);
        try
        {
            await _permissions.EnsureAllowedAsync(
                new RealtimeAuthorizationContext(operation, Namespace, room, Context.ConnectionId, Context.User ?? Anonymous, isMember),
                Context.ConnectionAborted);
        }
        catch (RealtimeForbiddenException ex)
        {
            throw new ForbiddenHubException(ex.Message);
        }
    }

    private (IMemberGroupGrain, Publication) BroadcastPublication(string eventName, JsonElement data)
    {
        var @namespace = Namespace;
        return _realtime.NamespacePublication(
            @namespace, EventMethod, [Event(eventName, data, null)], null, _realtime.ClientEventSourceOf(@namespace, Context.ConnectionId, eventName, data));
    }

    private (IMemberGroupGrain, Publication) RoomPublication(string room, string eventName, JsonElement data)
    {
        var @namespace = Namespace;
        return _realtime.RoomPublication(
            @namespace, room, EventMethod, [Event(eventName, data, room)], null, _realtime.ClientEventSourceOf(@namespace, Context.ConnectionId, eventName, data));
    }

    private RealtimeEvent Event(string eventName, JsonElement data, string? room)
    {
        if (Names.ValidateEvent(eventName) is { } error)
        {
            throw new RejectedHubException(RejectionReason.InvalidInput, $"Invalid event name: {error}");
        }

        return new RealtimeEvent(eventName, data, Namespace, room, Context.ConnectionId);
    }

    private static PresenceEntry[] ToPresence(IReadOnlyList<Member> members)
    {
        var entries = new PresenceEntry[members.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = new PresenceEntry(members[i].ConnectionId, members[i].UserId, members[i].GatewayId);
        }

        return entries;
    }
}

/// <summary>What a client keeps to resume its session after a reconnect.</summary>
public sealed record ResumeTicket(string ConnectionId, string Token);
