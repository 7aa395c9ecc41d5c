using System.Text.Json;

namespace Realtime.Contracts;

/// <summary>A connection as a room, namespace or user grain knows it.</summary>
/// <param name="ConnectionId">The connection id.</param>
/// <param name="GatewayId">The gateway that holds the connection.</param>
/// <param name="UserId">The authenticated user, if any.</param>
[GenerateSerializer, Immutable, Alias("realtime.member")]
public sealed record Member([property: Id(0)] string ConnectionId, [property: Id(1)] string GatewayId, [property: Id(2)] string? UserId);

/// <summary>What a session grain knows of its connection.</summary>
/// <param name="Hub">The hub the connection is connected to.</param>
/// <param name="Namespace">The namespace, socket.io style: <c>/</c> or <c>/name</c>.</param>
/// <param name="Member">The connection, its gateway and user.</param>
/// <param name="Rooms">The keys of the rooms the connection is in (see <see cref="GrainKeys.Room"/>).</param>
/// <param name="Data">Application data attached to the connection.</param>
[GenerateSerializer, Immutable, Alias("realtime.session-info")]
public sealed record SessionInfo(
    [property: Id(0)] string Hub,
    [property: Id(1)] string Namespace,
    [property: Id(2)] Member Member,
    [property: Id(3)] IReadOnlyList<string> Rooms,
    [property: Id(4)] JsonElement? Data);

/// <summary>One entry of a presence list: a connection, its user, its gateway and, when asked for, its data.</summary>
[GenerateSerializer, Immutable, Alias("realtime.presence-entry")]
public sealed record PresenceEntry(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string? UserId,
    [property: Id(2)] string GatewayId,
    [property: Id(3)] JsonElement? Data = null);
