using Microsoft.AspNetCore.SignalR;
using Realtime.Gateway.Internal;
using Realtime.Grains;

namespace Realtime.Gateway.LifetimeManager;

/// <summary>What grains push to this gateway, written to its local connections.</summary>
internal sealed partial class RealtimeHubLifetimeManager<THub>
    where THub : Hub
{
    void ILocalHub.Deliver(Delivery delivery)
    {
        var message = new OutgoingMessage(delivery.Payload);
        var except = delivery.Except;
        switch (delivery.Target)
        {
            case DeliveryTarget.Connection:
                if (_connections.TryGetValue(delivery.Key, out var target))
                {
                    target.Write(message);
                }

                return;
            case DeliveryTarget.Hub:
                foreach (var (connectionId, local) in _connections)
                {
                    if (local.Rejection is null && !IsExcluded(except, connectionId))
                    {
                        local.Write(message);
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

        var rooms = delivery.Rooms;
        foreach (var (connectionId, connection) in members)
        {
            if (!IsExcluded(except, connectionId) && (rooms is null || Selects(rooms, connection)))
            {
                connection.Write(message);
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

        var roomName = GrainKeys.RoomName(roomKey);
        foreach (var (connectionId, connection) in members)
        {
            if (connection.RemoveRoom(roomKey))
            {
                _ = ForgetRoomAsync(connectionId, roomKey);
            }

            connection.RoomClosed(roomName);
        }
    }

    private static bool Selects(RoomFilter filter, LocalConnection connection)
    {
        foreach (var excluded in filter.Exclude)
        {
            if (connection.InRoom(excluded))
            {
                return false;
            }
        }

        if (filter.Include.Count == 0)
        {
            return true;
        }

        foreach (var included in filter.Include)
        {
            if (connection.InRoom(included))
            {
                return true;
            }
        }

        return false;
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
}
