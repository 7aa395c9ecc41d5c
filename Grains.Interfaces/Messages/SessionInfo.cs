using System.Text.Json;

namespace Realtime.Contracts;

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
