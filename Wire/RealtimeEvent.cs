using System.Text.Json;

namespace Realtime.Wire;

/// <summary>
/// What clients of the RealtimeHub receive on the <c>event</c> client method, whoever sent it.
/// </summary>
/// <param name="Event">The application's event name.</param>
/// <param name="Data">The application's data, as the sender gave it.</param>
/// <param name="Namespace">The namespace it was sent in; null for a message a service sent to a connection or a user.</param>
/// <param name="Room">The room it was sent to; null for an echo, a namespace broadcast, or a send to several rooms.</param>
/// <param name="From">The sender: its connection id, or the service name for messages from services.</param>
public sealed record RealtimeEvent(string Event, JsonElement Data, string? Namespace, string? Room, string From);
