using Realtime.Contracts;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.Core;

/// <summary>Rooms: join, leave and close, for local connections and for those on other gateways.</summary>
public sealed partial class LocalHub<THub>
{
    /// <summary>The rooms of a local connection within its own namespace.</summary>
    internal IReadOnlyList<string> RoomsOf(string connectionId)
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

    /// <summary>The grain key of a room of a namespace of this hub; the room name must be valid.</summary>
    internal static string RoomKeyOf(string @namespace, string room) => GrainKeys.Room(HubName, @namespace, room);

    /// <summary>Makes a connection, local or on another gateway, join a room; false when no such connection is open.</summary>
    internal Task<bool> JoinRoomAsync(string connectionId, string @namespace, string room)
    {
        var roomKey = RoomKey(@namespace, room);
        return _connections.TryGetValue(connectionId, out var local)
            ? JoinLocalAsync(local, roomKey)
            : Session(connectionId).JoinRoom(roomKey);
    }

    /// <summary>Makes a connection, local or on another gateway, leave a room; false when no such connection is open.</summary>
    internal Task<bool> LeaveRoomAsync(string connectionId, string @namespace, string room)
    {
        var roomKey = RoomKey(@namespace, room);
        return _connections.TryGetValue(connectionId, out var local)
            ? LeaveLocalAsync(local, roomKey)
            : Session(connectionId).LeaveRoom(roomKey);
    }

    /// <summary>Closes a room: every member, on every gateway, leaves it and is told; returns how many there were.</summary>
    internal Task<int> CloseRoomAsync(string @namespace, string room) => Room(RoomKey(@namespace, room)).Close();

    internal Task<IReadOnlyList<Member>> RoomMembersAsync(string @namespace, string room) => Room(RoomKey(@namespace, room)).Members();

    /// <summary>A room's members with their sessions, each read from its gateway.</summary>
    internal Task<IReadOnlyList<SessionInfo>> RoomSessionsAsync(string @namespace, string room) => Room(RoomKey(@namespace, room)).Sessions();

    Task<bool> ILocalHub.JoinLocalAsync(string connectionId, string roomKey) =>
        _connections.TryGetValue(connectionId, out var local) ? JoinLocalAsync(local, roomKey) : Task.FromResult(false);

    Task<bool> ILocalHub.LeaveLocalAsync(string connectionId, string roomKey) =>
        _connections.TryGetValue(connectionId, out var local) ? LeaveLocalAsync(local, roomKey) : Task.FromResult(false);

    /// <summary>
    /// Does <paramref name="action"/> to many connections, wherever they are: those here directly, the others through
    /// their gateways, one call to each (<see cref="IConnectionsGrain"/>); returns for how many it was done.
    /// </summary>
    internal async Task<int> ActAsync(IEnumerable<Member> members, ConnectionAction action)
    {
        var local = new List<string>();
        var remote = new List<Member>();
        foreach (var member in members)
        {
            if (_connections.ContainsKey(member.ConnectionId))
            {
                local.Add(member.ConnectionId);
            }
            else
            {
                remote.Add(member);
            }
        }

        var here = ((ILocalHub)this).ActLocalAsync(local, action);
        var elsewhere = remote.Count > 0 ? _references.Get<IConnectionsGrain>(HubName).Act(remote, action) : Task.FromResult(0);
        return await here + await elsewhere;
    }

    async Task<int> ILocalHub.ActLocalAsync(IReadOnlyList<string> connectionIds, ConnectionAction action)
    {
        var done = await Task.WhenAll(connectionIds.Select(id => action.Kind switch
        {
            ConnectionActionKind.JoinRoom => ((ILocalHub)this).JoinLocalAsync(id, action.RoomKey!),
            ConnectionActionKind.LeaveRoom => ((ILocalHub)this).LeaveLocalAsync(id, action.RoomKey!),
            _ => Task.FromResult(((ILocalHub)this).DisconnectLocal(id)),
        }));
        return done.Count(static d => d);
    }

    /// <summary>
    /// Makes a local connection join a room. A recoverable connection records where the room stood when it joined
    /// (<paramref name="recordAs"/> instead, when a recovery rejoins it where the client was).
    /// </summary>
    private async Task<bool> JoinLocalAsync(LocalConnection local, string roomKey, GroupPosition? recordAs = null)
    {
        lock (local.RoomsLock)
        {
            if (!local.TryAddRoom(roomKey, out var closed))
            {
                return !closed;
            }

            _rooms.Add(roomKey, local);
        }

        var connectionId = local.ConnectionId;
        try
        {
            // Joining is idempotent: a room whose node died under the call is asked again once the cluster has declared
            // that node dead (a fraction of a second), as a registration is, rather than the join failing for it: a
            // client that joins its rooms again as it reconnects, after its gateway died, meets exactly that.
            await RetriedWhileANodeDiesAsync(
                () => JoinGrainsAsync(local, roomKey, recordAs),
                () => !local.IsClosed,
                (attempt, ex) => GatewayLog.JoinRetried(Logger, connectionId, roomKey, attempt, ex));
        }
        catch
        {
            local.RemoveRoom(roomKey);

            // The room may have taken the member after all (a lost answer), or from this gateway's index while it
            // rebuilt itself: take it out again, so that a join that failed leaves nothing behind.
            _ = ForgetFailedJoinAsync(roomKey, local);
            throw;
        }

        if (local.IsClosed)
        {
            // It disconnected while joining, and its cleanup may have reached the room first: leave again.
            await LeaveGroupAsync(_rooms, roomKey, connectionId, () => Room(roomKey).Leave(local.Member));
            return false;
        }

        return true;
    }

    /// <summary>The room's grain, and the connection's session grain when it has one, take the join.</summary>
    private async Task JoinGrainsAsync(LocalConnection local, string roomKey, GroupPosition? recordAs)
    {
        if (local.RecoveryWindow is null)
        {
            var joining = Room(roomKey).Join(local.Member);
            await Task.WhenAll(joining, local.SessionShared ? Session(local.ConnectionId).AddRoom(roomKey, null) : Task.CompletedTask);
            Seed(_rooms, roomKey, joining.Result);
        }
        else
        {
            var joined = await Room(roomKey).Join(local.Member);
            local.Joined(roomKey, joined);
            Seed(_rooms, roomKey, joined);
            await Session(local.ConnectionId).AddRoom(roomKey, recordAs ?? joined);
        }
    }

    /// <summary>
    /// Makes a local connection leave a room. It stops counting as a member at once (rebuilds, room filters), but
    /// keeps receiving the room's messages until the room's notice that it left arrives, after every message the room
    /// sent before the leave; and the leave completes once those are written, so a client that sent to a room and
    /// then left has received its own messages when the leave returns.
    /// </summary>
    private async Task<bool> LeaveLocalAsync(LocalConnection local, string roomKey)
    {
        if (!local.RemoveRoom(roomKey))
        {
            return !local.IsClosed;
        }

        var connectionId = local.ConnectionId;
        var notice = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _leaving[(roomKey, connectionId)] = notice;
        try
        {
            await Task.WhenAll(Room(roomKey).Leave(local.Member), ForgetRoomInSession(local, roomKey));
            await notice.Task.WaitAsync(LeaveNoticeTimeout, _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            _leaving.TryRemove(KeyValuePair.Create((roomKey, connectionId), notice));
            StopDelivering(local, roomKey);
            local.Left(roomKey);
        }

        await local.WhenWrittenAsync();
        return true;
    }

    /// <summary>Takes a connection that left a room out of the room's local index, unless it joined it again meanwhile.</summary>
    private void StopDelivering(LocalConnection local, string roomKey)
    {
        lock (local.RoomsLock)
        {
            if (!local.InRoom(roomKey))
            {
                _rooms.Remove(roomKey, local.ConnectionId);
            }
        }
    }

    private async Task ForgetRoomAsync(LocalConnection local, string roomKey)
    {
        try
        {
            await ForgetRoomInSession(local, roomKey);
        }
        catch (Exception ex)
        {
            GatewayLog.CleanupFailed(Logger, local.ConnectionId, ex);
        }
    }

    /// <summary>Tells the connection's session grain, if it has one, that it left a room it had left here already.</summary>
    private Task ForgetRoomInSession(LocalConnection local, string roomKey) =>
        local.SessionShared ? Session(local.ConnectionId).RemoveRoom(roomKey) : Task.CompletedTask;

    private async Task ForgetFailedJoinAsync(string roomKey, LocalConnection local)
    {
        var connectionId = local.ConnectionId;
        try
        {
            await LeaveGroupAsync(_rooms, roomKey, connectionId, () => Task.WhenAll(Room(roomKey).Leave(local.Member), ForgetRoomInSession(local, roomKey)));
        }
        catch (Exception ex)
        {
            GatewayLog.CleanupFailed(Logger, connectionId, ex);
        }
    }

    /// <summary>The grain key of a room of a namespace of this hub; refuses an invalid room name.</summary>
    internal static string RoomKey(string @namespace, string room)
    {
        if (Names.ValidateRoom(room) is { } error)
        {
            throw new RejectedHubException(RejectionReason.InvalidInput, $"Invalid room name: {error}");
        }

        return GrainKeys.Room(HubName, @namespace, room);
    }
}
