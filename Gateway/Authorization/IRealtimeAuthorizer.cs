using System.Security.Claims;

namespace Realtime.Gateway.Authorization;

/// <summary>An operation a client asks for on a namespace or one of its rooms.</summary>
public enum RealtimeOperation
{
    Join,
    Send,
    Presence,
    Broadcast,
    Close,
}

/// <summary>What a client asks to do: the operation, where, and who asks.</summary>
/// <param name="Operation">The operation.</param>
/// <param name="Namespace">The client's namespace.</param>
/// <param name="Room">The room; null for a broadcast and for the namespace's presence.</param>
/// <param name="ConnectionId">The asking connection.</param>
/// <param name="User">The connection's user (its token's claims), or an anonymous principal.</param>
/// <param name="IsMember">Whether the connection is a member of the room.</param>
public sealed record RealtimeAuthorizationContext(
    RealtimeOperation Operation,
    string Namespace,
    string? Room,
    string ConnectionId,
    ClaimsPrincipal User,
    bool IsMember);

/// <summary>An answer of an <see cref="IRealtimeAuthorizer"/>.</summary>
public readonly record struct RealtimeAuthorization(bool Allowed, string? Reason)
{
    public static RealtimeAuthorization Allow { get; } = new(true, null);

    /// <summary>Refuses, with the reason the client is told.</summary>
    public static RealtimeAuthorization Deny(string reason) => new(false, reason);
}

/// <summary>
/// The application's own decisions on what clients may do. Register one as a singleton; it is asked about every join,
/// send, presence, broadcast and close of a client that the configured policy (<c>Permissions</c>) allowed, and can
/// still refuse it. Server-side sends (hub code, the emitter, the HTTP API, socket.io server code) are not asked.
/// </summary>
public interface IRealtimeAuthorizer
{
    ValueTask<RealtimeAuthorization> AuthorizeAsync(RealtimeAuthorizationContext context, CancellationToken cancellationToken);
}

/// <summary>The hub's error for a refused operation: the client sees "Not allowed: {reason}".</summary>
internal sealed class ForbiddenHubException(string message) : Microsoft.AspNetCore.SignalR.HubException(message);

/// <summary>A client asked for an operation it may not do.</summary>
public sealed class RealtimeForbiddenException(string reason) : Exception($"Not allowed: {reason}")
{
    public string Reason { get; } = reason;
}
