namespace Realtime.Grains;

/// <summary>Which local connections of a gateway a <see cref="Delivery"/> is for.</summary>
public enum DeliveryTarget : byte
{
    /// <summary>Every connection of the hub.</summary>
    Hub,
    /// <summary>The connections of one namespace.</summary>
    Namespace,
    /// <summary>The members of one room.</summary>
    Room,
    /// <summary>The connections of one user.</summary>
    User,
    /// <summary>One connection; <see cref="Delivery.Key"/> is its connection id.</summary>
    Connection,
}

/// <summary>
/// What a grain pushes to a gateway: one per gateway that holds recipients, whatever their number there.
/// </summary>
/// <param name="Hub">The hub the recipients are connected to.</param>
/// <param name="Target">What kind of group <paramref name="Key"/> names.</param>
/// <param name="Key">The grain key of the group (see <see cref="GrainKeys"/>), or the connection id.</param>
/// <param name="Sequence">Per-publisher sequence number: every recipient sees one publisher's messages in this order.</param>
/// <param name="Payload">The serialized message.</param>
/// <param name="Except">Connection ids that must not receive it.</param>
/// <param name="Rooms">
/// When set, only the recipients that the receiving gateway knows to be in one of its rooms, and in none of its
/// excluded rooms, get the payload: socket.io's <c>to(rooms).except(rooms)</c>, where a connection in several of
/// the rooms receives the message once.
/// </param>
public sealed record Delivery(string Hub, DeliveryTarget Target, string Key, long Sequence, SerializedPayload Payload, IReadOnlyList<string>? Except, RoomFilter? Rooms = null);

/// <summary>Room keys (see <see cref="GrainKeys.Room"/>) that select the recipients of a namespace delivery.</summary>
/// <param name="Include">A recipient must be in at least one of these; empty means every connection of the namespace.</param>
/// <param name="Exclude">A recipient must be in none of these.</param>
public sealed record RoomFilter(IReadOnlyList<string> Include, IReadOnlyList<string> Exclude);
