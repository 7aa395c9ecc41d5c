using System.Text.Json;

namespace Realtime.Contracts;

/// <summary>A server-to-server event on a hub's <see cref="RealtimeStreams.ServerEvents"/> stream.</summary>
/// <param name="Name">The event's name.</param>
/// <param name="Data">Its data.</param>
/// <param name="From">The node that sent it (a gateway's id, or a service's name); empty when it is for every gateway, its sender's included.</param>
[GenerateSerializer, Immutable, Alias("realtime.server-event")]
public sealed record ServerEventMessage([property: Id(0)] string Name, [property: Id(1)] JsonElement Data, [property: Id(2)] string From);
