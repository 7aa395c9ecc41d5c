using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Realtime.Gateway.Internal;
using Realtime.Grains;

namespace Realtime.Gateway.LifetimeManager;

/// <summary>What grains push to this gateway, written to its local connections.</summary>
internal sealed partial class RealtimeHubLifetimeManager<THub>
    where THub : Hub
{
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
}
