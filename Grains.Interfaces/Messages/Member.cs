using System.Text.Json;

namespace Realtime.Grains;

/// <summary>A connection as a room, namespace or user grain knows it.</summary>
/// <param name="ConnectionId">The connection id.</param>
/// <param name="GatewayId">The gateway that holds the connection.</param>
/// <param name="UserId">The authenticated user, if any.</param>
public sealed record Member(string ConnectionId, string GatewayId, string? UserId);

/// <summary>What a session grain knows of its connection.</summary>
/// <param name="Hub">The hub the connection is connected to.</param>
/// <param name="Namespace">The namespace, socket.io style: <c>/</c> or <c>/name</c>.</param>
/// <param name="Member">The connection, its gateway and user.</param>
/// <param name="Rooms">The keys of the rooms the connection is in (see <see cref="GrainKeys.Room"/>).</param>
/// <param name="Data">Application data attached to the connection.</param>
public sealed record SessionInfo(string Hub, string Namespace, Member Member, IReadOnlyList<string> Rooms, JsonElement? Data);

/// <summary>One entry of a presence list: a connection, its user, its gateway and, when asked for, its data.</summary>
public sealed record PresenceEntry(string ConnectionId, string? UserId, string GatewayId, JsonElement? Data = null);
