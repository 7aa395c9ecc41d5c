using Realtime.Contracts;

namespace Realtime.Gateway.Core;

/// <summary>
/// What grains ask of this gateway when they come back after their silo died (or after being idle): the gateway's
/// connections are the source of truth of every room, namespace, user and session they are in. And telling clients
/// to reconnect when this gateway stops.
/// </summary>
public sealed partial class LocalHub<THub>
{
    IReadOnlyList<Member> ILocalHub.Members(DeliveryTarget target, string key)
    {
        var index = target switch
        {
            DeliveryTarget.Room => _rooms,
            DeliveryTarget.Namespace => _namespaces,
            DeliveryTarget.User => _users,
            _ => null,
        };
        if (index?.Members(key) is not { } connections)
        {
            return [];
        }

        var members = new List<Member>();
        foreach (var (_, local) in connections)
        {
            if (!local.IsClosed)
            {
                members.Add(local.Member);
            }
        }

        return members;
    }

    SessionInfo? ILocalHub.Session(string connectionId) =>
        _connections.TryGetValue(connectionId, out var local) && local.Rejection is null && local.ShareSession() is { } shared
            ? new SessionInfo(HubName, local.Namespace, local.Member, shared.Rooms, shared.Data)
            : null;

    IReadOnlyList<SessionInfo> ILocalHub.Sessions(IReadOnlyList<string> connectionIds)
    {
        var sessions = new List<SessionInfo>(connectionIds.Count);
        foreach (var connectionId in connectionIds)
        {
            if (_connections.TryGetValue(connectionId, out var local) && local.Rejection is null && local.State() is { } state)
            {
                sessions.Add(new SessionInfo(HubName, local.Namespace, local.Member, state.Rooms, state.Data));
            }
        }

        return sessions;
    }

    /// <summary>
    /// Tells every client to reconnect (to another gateway) before this one stops. It runs while the host is
    /// stopping and waits, briefly, for the close messages to be written: SignalR closes connections on stopping
    /// too, and a connection closed first would never hear why.
    /// </summary>
    private void CloseForShutdown()
    {
        // From now on, a client that comes back here (its reconnect raced the listener's close) is told the same.
        Volatile.Write(ref _stopping, true);
        var writes = new List<Task>();
        foreach (var (_, local) in _connections)
        {
            writes.Add(local.CloseForShutdownAsync());
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
        var deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(2);
        while (!_connections.IsEmpty && _time.GetUtcNow() < deadline)
        {
            Thread.Sleep(20);
        }
    }
}
