using System.Text.Json;

namespace Realtime.Gateway.Hubs;

/// <summary>
/// What clients of <see cref="RealtimeHub"/> receive on the <c>event</c> method.
/// </summary>
/// <param name="Event">The application's event name.</param>
/// <param name="Data">The application's data, as the sender gave it.</param>
/// <param name="Namespace">The namespace it was sent in.</param>
/// <param name="Room">The room it was sent to, or null for an echo or a namespace broadcast.</param>
/// <param name="From">The sender's connection id.</param>
public sealed record RealtimeEvent(string Event, JsonElement Data, string Namespace, string? Room, string From);
