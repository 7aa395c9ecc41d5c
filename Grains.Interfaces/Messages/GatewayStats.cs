namespace Realtime.Contracts;

/// <summary>A group (room or namespace, by grain key) as one gateway sees it: its local members, and the messages it delivered here.</summary>
[GenerateSerializer, Immutable, Alias("realtime.group-count")]
public sealed record GroupCount([property: Id(0)] string Key, [property: Id(1)] int Members, [property: Id(2)] long Messages);

/// <summary>
/// One gateway's numbers in one hub, for the admin view: its connections, its namespaces and rooms with local
/// members (the largest rooms, at most as many as asked for: <see cref="Truncated"/> says when there were more).
/// <see cref="Connections"/> is -1 when the gateway did not answer in time.
/// </summary>
[GenerateSerializer, Immutable, Alias("realtime.gateway-stats")]
public sealed record GatewayStats(
    [property: Id(0)] string GatewayId,
    [property: Id(1)] int Connections,
    [property: Id(2)] IReadOnlyList<GroupCount> Namespaces,
    [property: Id(3)] IReadOnlyList<GroupCount> Rooms,
    [property: Id(4)] bool Truncated);
