using System.Text.Json;

namespace Realtime.Contracts;

/// <summary>One entry of a presence list: a connection, its user, its gateway and, when asked for, its data.</summary>
[GenerateSerializer, Immutable, Alias("realtime.presence-entry")]
public sealed record PresenceEntry(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string? UserId,
    [property: Id(2)] string GatewayId,
    [property: Id(3)] JsonElement? Data = null);
