namespace Realtime.Contracts;

/// <summary>Room keys (see <see cref="GrainKeys.Room"/>) that select the recipients of a namespace delivery.</summary>
/// <param name="Include">A recipient must be in at least one of these; empty means every connection of the namespace.</param>
/// <param name="Exclude">A recipient must be in none of these.</param>
[GenerateSerializer, Immutable, Alias("realtime.room-filter")]
public sealed record RoomFilter([property: Id(0)] IReadOnlyList<string> Include, [property: Id(1)] IReadOnlyList<string> Exclude);

/// <summary>A message to send to a group (room, namespace, user, hub), as a gateway or a service hands it to the group's grain.</summary>
/// <param name="Payload">The serialized message.</param>
/// <param name="Except">Connection ids that must not receive it.</param>
/// <param name="Rooms">For a namespace: only the connections this filter selects (see <see cref="Delivery.Rooms"/>).</param>
/// <param name="Source">
/// The client event behind it, when its namespace's client events go to a stream (<see cref="RealtimeStreams.ClientEvents"/>).
/// </param>
[GenerateSerializer, Immutable, Alias("realtime.publication")]
public sealed record Publication(
    [property: Id(0)] SerializedPayload Payload,
    [property: Id(1)] IReadOnlyList<string>? Except = null,
    [property: Id(2)] RoomFilter? Rooms = null,
    [property: Id(3)] ClientEventSource? Source = null);
