namespace Realtime.Contracts;

/// <summary>A connection as a room, namespace or user grain knows it.</summary>
/// <param name="ConnectionId">The connection id.</param>
/// <param name="GatewayId">The gateway that holds the connection.</param>
/// <param name="UserId">The authenticated user, if any.</param>
[GenerateSerializer, Immutable, Alias("realtime.member")]
public sealed record Member([property: Id(0)] string ConnectionId, [property: Id(1)] string GatewayId, [property: Id(2)] string? UserId);
