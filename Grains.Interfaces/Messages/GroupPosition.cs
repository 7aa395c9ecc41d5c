namespace Realtime.Contracts;

/// <summary>
/// Where a room, namespace or session stands in its own stream of messages: the activation that numbers them
/// (<see cref="Epoch"/>) and the sequence number of its latest message (0 before any). A member that joins at a
/// position receives every message after it.
/// </summary>
[GenerateSerializer, Immutable, Alias("realtime.group-position")]
public sealed record GroupPosition([property: Id(0)] string Epoch, [property: Id(1)] long Sequence);
