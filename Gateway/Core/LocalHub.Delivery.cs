using Realtime.Contracts;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.Core;

/// <summary>What grains push to this gateway, put in order and written to its local connections.</summary>
public sealed partial class LocalHub<THub>
{
    void ILocalHub.Deliver(Delivery delivery)
    {
        Metrics.Delivered(delivery.Target);
        if (delivery.Kind == DeliveryKind.Resent)
        {
            Metrics.Resent(delivery.Target);
        }
        using var activity = GatewayTracing.Source.HasListeners() ? StartDeliverySpan(delivery) : null;
        switch (delivery.Target)
        {
            case DeliveryTarget.Connection:
                if (_connections.TryGetValue(delivery.Key, out var target))
                {
                    // Made on the first message to the connection alone: most connections never get one.
                    (target.DeliveryOrder ?? target.OrderOnce(CreateConnectionOrder(target))).Accept(delivery);
                }

                return;
            case DeliveryTarget.Hub:
                _hubOrder.Accept(delivery);
                return;
        }

        if (IndexOf(delivery.Target).Group(delivery.Key) is { } group)
        {
            group.Order.Accept(delivery);
        }
        else if (delivery.Kind != DeliveryKind.Message)
        {
            // No local members to keep in order: act on the notice now.
            ApplyNotice(delivery);
        }
    }

    private static System.Diagnostics.Activity? StartDeliverySpan(Delivery delivery)
    {
        var activity = GatewayTracing.Source.StartActivity("realtime deliver", System.Diagnostics.ActivityKind.Consumer);
        activity?.SetTag("realtime.target", delivery.Target.ToString());
        activity?.SetTag("realtime.key", delivery.Key);
        activity?.SetTag("realtime.sequence", delivery.Sequence);
        return activity;
    }

    private LocalIndex IndexOf(DeliveryTarget target) => target switch
    {
        DeliveryTarget.Room => _rooms,
        DeliveryTarget.Namespace => _namespaces,
        _ => _users,
    };

    /// <summary>The order in which a group's deliveries reach its local members.</summary>
    private DeliveryOrder CreateOrder(string key, LocalIndex.MemberSet group) =>
        new(delivery => ApplyToGroup(delivery, group), (next, positions, after) => GroupLost(next, positions, after, group), _time, FillFromHistoryAsync);

    /// <summary>
    /// The messages of a room or namespace that a gap in its deliveries missed (a delivery in flight when a silo died),
    /// read from its history; null when the history no longer holds them all, or the group keeps none.
    /// </summary>
    private async Task<IReadOnlyList<Delivery>?> FillFromHistoryAsync(Delivery next, long after)
    {
        if (next.Epoch is not { } epoch || next.Target is not (DeliveryTarget.Room or DeliveryTarget.Namespace))
        {
            return null;
        }

        var replay = await SinceAsync(new RecoveryStream(next.Key, next.Target, new GroupPosition(epoch, after)));
        if (!replay.Complete || replay.Epoch != epoch)
        {
            return null;
        }

        GatewayLog.DeliveriesFilled(Logger, replay.Messages.Count, next.Target, next.Key);
        return [.. replay.Messages.Select(m => new Delivery(next.Hub, next.Target, next.Key, m.Sequence, m.Payload, m.Except, m.Rooms, next.Chain, Epoch: epoch))];
    }

    /// <summary>
    /// A run of a group's deliveries given up: logged, and when it held messages, each local member is told which
    /// (<see cref="LocalConnection.Missed"/>), so that its client can catch up: never a silent gap.
    /// </summary>
    private void GroupLost(Delivery next, long positions, long after, LocalIndex.MemberSet group)
    {
        LogLost(next, positions, after);
        var upTo = next.Kind == DeliveryKind.Message ? next.Sequence - 1 : next.Sequence;
        if (next.Target is not (DeliveryTarget.Room or DeliveryTarget.Namespace) || (after >= 0 && upTo <= after))
        {
            return; // users keep no history to catch up from; or only notices were lost
        }

        var room = next.Target == DeliveryTarget.Room ? GrainKeys.RoomName(next.Key) : null;
        foreach (var (_, connection) in group.Connections)
        {
            connection.Missed(room, next.Epoch, after >= 0 ? after + 1 : null, upTo);
        }
    }

    private DeliveryOrder CreateConnectionOrder(LocalConnection connection)
    {
        var sessionKey = GrainKeys.Session(HubName, connection.ConnectionId);
        return new(delivery =>
        {
            if (delivery.Payload is not { } payload)
            {
                return;
            }

            var message = new OutgoingMessage(payload, delivery.Epoch is { } epoch ? new StreamPosition(sessionKey, epoch, delivery.Sequence, ToConnection: true) : null);
            if (!connection.WasReplayed(sessionKey, delivery.Epoch, delivery.Sequence) && !connection.TryHold(sessionKey, delivery.Sequence, message))
            {
                connection.Write(message);
            }

            Metrics.HandedToWriters(payload.SentAtTicks);
        }, LogLost, _time);
    }

    private DeliveryOrder CreateHubOrder() => new(ApplyToHub, LogLost, _time);

    private void LogLost(Delivery next, long count, long after) => GatewayLog.DeliveriesLost(Logger, count, next.Target, next.Key);

    private void ApplyToHub(Delivery delivery)
    {
        if (delivery.Payload is not { } payload)
        {
            return;
        }

        var message = new OutgoingMessage(payload);
        var except = delivery.Except;
        foreach (var (connectionId, local) in _connections)
        {
            if (local.Rejection is null && !IsExcluded(except, connectionId))
            {
                local.Write(message);
            }
        }

        Metrics.HandedToWriters(payload.SentAtTicks);
    }

    private void ApplyToGroup(Delivery delivery, LocalIndex.MemberSet group)
    {
        if (delivery.Kind != DeliveryKind.Message)
        {
            ApplyNotice(delivery);
            return;
        }

        if (delivery.Payload is not { } payload)
        {
            return;
        }

        // Rooms and namespaces number their messages for resuming and recovering; users do not keep history.
        var message = new OutgoingMessage(
            payload, delivery is { Target: not DeliveryTarget.User, Epoch: { } epoch } ? new StreamPosition(delivery.Key, epoch, delivery.Sequence) : null);
        var except = delivery.Except;
        var rooms = delivery.Rooms;
        Interlocked.Increment(ref group.Delivered);
        foreach (var (connectionId, connection) in group.Connections)
        {
            if (!IsExcluded(except, connectionId) && (rooms is null || Selects(rooms, connection))
                && !connection.WasReplayed(delivery.Key, delivery.Epoch, delivery.Sequence) && !connection.TryHold(delivery.Key, delivery.Sequence, message))
            {
                connection.Write(message);
                if (delivery.Target == DeliveryTarget.Namespace && connection.FirstNamespaceSequence == 0)
                {
                    connection.FirstNamespaceSequence = delivery.Sequence;
                }
            }
        }

        Metrics.HandedToWriters(payload.SentAtTicks);
    }

    private void ApplyNotice(Delivery delivery)
    {
        switch (delivery.Kind)
        {
            case DeliveryKind.MemberLeft when delivery.Connection is { } connectionId:
                MemberLeft(delivery.Key, connectionId);
                break;
            case DeliveryKind.Closed:
                RoomClosed(delivery.Key);
                break;
        }
    }

    /// <summary>A connection's leave reached the room, after everything the room sent it: it gets no more of it.</summary>
    private void MemberLeft(string roomKey, string connectionId)
    {
        if (_connections.TryGetValue(connectionId, out var local))
        {
            StopDelivering(local, roomKey);
        }

        if (_leaving.TryRemove((roomKey, connectionId), out var notice))
        {
            notice.TrySetResult();
        }
    }

    private void RoomClosed(string roomKey)
    {
        var members = _rooms.RemoveAll(roomKey);
        if (members is null)
        {
            return;
        }

        var roomName = GrainKeys.RoomName(roomKey);
        foreach (var (_, connection) in members)
        {
            if (connection.RemoveRoom(roomKey))
            {
                _ = ForgetRoomAsync(connection, roomKey);
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
