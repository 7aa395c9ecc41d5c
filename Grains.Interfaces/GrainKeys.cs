namespace Realtime.Contracts;

/// <summary>
/// How grain keys are written. Hub names and namespace names never contain '/', so keys split unambiguously:
/// a namespace is <c>{hub}{namespace}</c> (<c>RealtimeHub/chat</c>, or <c>RealtimeHub/</c> for the default
/// namespace), a room is <c>{hub}{namespace}/{room}</c> (<c>RealtimeHub/chat/lobby</c>, <c>RealtimeHub//lobby</c>).
/// </summary>
public static class GrainKeys
{
    /// <summary>The namespace a connection is in when it names none.</summary>
    public const string DefaultNamespace = "/";

    /// <summary>The key of a namespace grain.</summary>
    public static string Namespace(string hub, string @namespace) => hub + @namespace;

    /// <summary>The key of a room grain.</summary>
    public static string Room(string hub, string @namespace, string room) => $"{hub}{@namespace}/{room}";

    /// <summary>The key of a connection's session grain.</summary>
    public static string Session(string hub, string connectionId) => $"{hub}/{connectionId}";

    /// <summary>The key of a user grain.</summary>
    public static string User(string hub, string userId) => $"{hub}/{userId}";

    /// <summary>The hub name at the start of any key made here.</summary>
    public static string HubOf(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? key : key[..slash];
    }

    /// <summary>The room name inside a room key made by <see cref="Room"/>.</summary>
    public static string RoomName(string roomKey)
    {
        var afterHub = roomKey.IndexOf('/', StringComparison.Ordinal);
        var afterNamespace = roomKey.IndexOf('/', afterHub + 1);
        return roomKey[(afterNamespace + 1)..];
    }
}
