using System.Text.Json;
using Realtime.Contracts;
using Realtime.Gateway.Observability;
using Realtime.Wire;

namespace Realtime.Gateway.Core;

/// <summary>
/// Sends to the hub, namespaces, rooms, users and single connections: checked, serialized once, and handed to their
/// grains, keeping what each group's grain took (<see cref="SentLog"/>) so that a grain whose silo died under it can
/// send it again to the gateways it missed; and what a grain's new activation asks of this gateway for that.
/// </summary>
public sealed partial class LocalHub<THub>
{
    /// <summary>
    /// Sends a serialized message to every connection of the hub, on every gateway, but those excepted; what the hub's
    /// grain took is kept for a while, as a group's sends are.
    /// </summary>
    internal Task SendHubAsync(SerializedPayload payload, IReadOnlyList<string>? except)
    {
        var hub = _references.Get<IGatewayRegistryGrain>(HubName);
        var publication = new Publication(payload, except);
        return _sent?.KeepsHubSends == true ? KeepAsync(hub, hub.Send(publication), [publication]) : hub.Publish(publication);
    }

    /// <summary>Sends a serialized message to every connection of a user, on every gateway.</summary>
    internal Task SendUserAsync(string userId, SerializedPayload payload) =>
        Publish(_references.Get<IUserGrain>(GrainKeys.User(HubName, userId)), new Publication(payload));

    internal Task SendNamespaceAsync(string @namespace, string methodName, object?[] args, IReadOnlyList<string>? except)
    {
        var (grain, publication) = NamespacePublication(@namespace, methodName, args, except);
        return Publish(grain, publication);
    }

    internal Task SendRoomAsync(string @namespace, string room, string methodName, object?[] args, IReadOnlyList<string>? except)
    {
        var (grain, publication) = RoomPublication(@namespace, room, methodName, args, except);
        return Publish(grain, publication);
    }

    /// <summary>
    /// A send to a namespace, checked and serialized, not yet sent; <paramref name="source"/> is the client event
    /// behind it, for the namespace's stream (see <see cref="ClientEventSourceOf"/>).
    /// </summary>
    internal (IMemberGroupGrain Target, Publication Publication) NamespacePublication(
        string @namespace, string methodName, object?[] args, IReadOnlyList<string>? except, ClientEventSource? source = null) =>
        (_references.Get<INamespaceGrain>(GrainKeys.Namespace(HubName, @namespace)), new Publication(Serialize(methodName, args), except, Source: source));

    /// <summary>A send to a room, checked and serialized, not yet sent.</summary>
    internal (IMemberGroupGrain Target, Publication Publication) RoomPublication(
        string @namespace, string room, string methodName, object?[] args, IReadOnlyList<string>? except, ClientEventSource? source = null) =>
        (Room(RoomKey(@namespace, room)), new Publication(Serialize(methodName, args), except, Source: source));

    /// <summary>
    /// What a client's event adds to its publication when its namespace's client events go to a stream
    /// (<c>Streams:ClientEventNamespaces</c>); null, and nothing to carry, otherwise.
    /// </summary>
    internal ClientEventSource? ClientEventSourceOf(string @namespace, string sender, string eventName, JsonElement data) =>
        _streams.StreamsClientEventsOf(@namespace) ? new ClientEventSource(@namespace, sender, eventName, data.Clone()) : null;

    /// <summary>A serialized message for a namespace, optionally only for the connections a room filter selects; not yet sent.</summary>
    internal (IMemberGroupGrain Target, Publication Publication) NamespacePublication(string @namespace, SerializedPayload payload, IReadOnlyList<string>? except, RoomFilter? rooms) =>
        (_references.Get<INamespaceGrain>(GrainKeys.Namespace(HubName, @namespace)), new Publication(payload, except, rooms));

    /// <summary>A serialized message for a room, by its grain key; not yet sent.</summary>
    internal (IMemberGroupGrain Target, Publication Publication) RoomPublication(string roomKey, SerializedPayload payload, IReadOnlyList<string>? except) =>
        (Room(roomKey), new Publication(payload, except));

    /// <summary>Sends a serialized message to a room.</summary>
    internal Task SendRoomAsync(string roomKey, SerializedPayload payload, IReadOnlyList<string>? except) => Publish(Room(roomKey), new Publication(payload, except));

    /// <summary>Sends a serialized message to one connection, here or on another gateway; false when it is not open.</summary>
    internal Task<bool> SendConnectionAsync(string connectionId, SerializedPayload payload)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            return Session(connectionId).Send(payload);
        }

        if (local.RecoveryWindow is not null)
        {
            // Its session numbers and keeps what is sent to it, for a recovery; sent one at a time to keep their order.
            var session = Session(connectionId);
            return local.InOrder(() => session.Send(payload));
        }

        local.Write(new OutgoingMessage(payload));
        Metrics.HandedToWriters(payload.SentAtTicks);
        return Task.FromResult(true);
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
            throw new RejectedHubException(RejectionReason.MessageTooLarge, ex.Message);
        }
    }

    /// <summary>
    /// True when sends are kept: the log is on, and every silo of the cluster answers sends with their position
    /// (<see cref="Realtime.Grains.Gateways.PayloadForms.EverySiloSendsPositions"/>); during a rolling upgrade from an
    /// earlier version, sends go as before.
    /// </summary>
    private bool KeepsSends => _sent?.Keeps == true;

    /// <summary>Sends a publication to a group's grain; what it took is kept for a while (see <see cref="SentLog"/>).</summary>
    internal Task Publish(IMemberGroupGrain group, Publication publication) =>
        KeepsSends ? KeepAsync(group, group.Send(publication), [publication]) : group.Publish(publication);

    /// <summary>Sends publications to a group's grain in one call, in order; what it took is kept for a while.</summary>
    internal Task PublishAll(IMemberGroupGrain group, Publication[] publications) =>
        publications.Length == 1 ? Publish(group, publications[0])
        : KeepsSends ? KeepAsync(group, group.SendAll(publications), publications) : group.PublishAll(publications);

    private async Task KeepAsync(IGatewayDependentGrain group, Task<GroupPosition> sent, IReadOnlyList<Publication> publications) =>
        _sent!.Add(group, await sent, publications);

    GatewayGroupState ILocalHub.GroupState(DeliveryTarget target, string key)
    {
        var members = ((ILocalHub)this).Members(target, key);
        if (target is not (DeliveryTarget.Room or DeliveryTarget.Namespace or DeliveryTarget.User or DeliveryTarget.Hub))
        {
            return new GatewayGroupState(members, null, []);
        }

        var applied = target == DeliveryTarget.Hub ? _hubOrder.Applied : IndexOf(target).Group(key)?.Order.Applied;
        if (_sent is not { Enabled: true } sent)
        {
            return new GatewayGroupState(members, applied, []);
        }

        IGatewayDependentGrain grain = target switch
        {
            DeliveryTarget.Room => _references.Get<IRoomGrain>(key),
            DeliveryTarget.Namespace => _references.Get<INamespaceGrain>(key),
            DeliveryTarget.User => _references.Get<IUserGrain>(key),
            _ => _references.Get<IGatewayRegistryGrain>(HubName),
        };
        return new GatewayGroupState(members, applied, sent.Of(grain));
    }

    /// <summary>Where a group stood when a member here joined it, for a group that applied nothing here yet (see <see cref="DeliveryOrder.Seed"/>).</summary>
    private static void Seed(LocalIndex index, string key, GroupPosition position) => index.Group(key)?.Order.Seed(position);
}
