using System.Text.Json;

namespace Realtime.Contracts;

/// <summary>
/// An event a client sent to a room or to its whole namespace, as a service consumes it from the namespace's
/// <see cref="RealtimeStreams.ClientEvents"/> stream: in each room's order, with the room's sequence number.
/// </summary>
/// <param name="Hub">The hub.</param>
/// <param name="Namespace">The namespace (<c>/</c> or <c>/name</c>).</param>
/// <param name="Room">The room it was sent to; null for a broadcast to the namespace.</param>
/// <param name="Sender">The connection id of the client that sent it.</param>
/// <param name="Sequence">The room's (or, for a broadcast, the namespace's) sequence number of the message.</param>
/// <param name="Event">The application's event name.</param>
/// <param name="Data">The application's data, as the client sent it.</param>
/// <param name="Time">When the room or namespace took it.</param>
/// <param name="Epoch">
/// The activation of the room or namespace that numbered it: within one epoch, <paramref name="Sequence"/> counts
/// every message of the group (a service's too, which the stream does not carry), so a consumer that sees a jump
/// can ask the group's history what it missed (<c>ClientEventFeed</c> in the client library does).
/// </param>
[GenerateSerializer, Immutable, Alias("realtime.client-event")]
public sealed record ClientEvent(
    [property: Id(0)] string Hub,
    [property: Id(1)] string Namespace,
    [property: Id(2)] string? Room,
    [property: Id(3)] string Sender,
    [property: Id(4)] long Sequence,
    [property: Id(5)] string Event,
    [property: Id(6)] JsonElement Data,
    [property: Id(7)] DateTimeOffset Time,
    [property: Id(8)] string? Epoch = null);

/// <summary>
/// What a gateway adds to a <see cref="Publication"/> from a client of a namespace whose events go to a stream: the
/// event as the client sent it. Absent otherwise, so streams cost nothing where they are off.
/// </summary>
[GenerateSerializer, Immutable, Alias("realtime.client-event-source")]
public sealed record ClientEventSource(
    [property: Id(0)] string Namespace,
    [property: Id(1)] string Sender,
    [property: Id(2)] string Event,
    [property: Id(3)] JsonElement Data);
