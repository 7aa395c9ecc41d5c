using System.Globalization;
using System.Security.Claims;
using Microsoft.Extensions.Options;
using Realtime.Gateway.Authentication;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.Authorization;

/// <summary>
/// Decides whether a client may join, send to, list or close a room, or broadcast to its namespace: the namespace's
/// policy (<see cref="PermissionOptions"/>), then the token's room grants, then the application's
/// <see cref="IRealtimeAuthorizer"/> if there is one. Used by <c>RealtimeHub</c>, and by socket.io handlers through
/// <see cref="EnsureAllowedAsync(SocketIO.Socket, RealtimeOperation, string?, CancellationToken)"/>.
/// </summary>
public sealed class RealtimePermissions
{
    private static readonly NamespacePolicy Open = new();

    private readonly Dictionary<string, NamespacePolicy> _rules;
    private readonly NamespacePolicy _fallback;
    private readonly string _grantsClaim;
    private readonly TimeSpan _clockSkew;
    private readonly IRealtimeAuthorizer? _authorizer;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics _metrics;

    internal RealtimePermissions(IOptions<PermissionOptions> options, IOptions<JwtOptions> jwt, TimeProvider time, GatewayMetrics metrics, IRealtimeAuthorizer? authorizer = null)
    {
        _rules = options.Value.Namespaces.Where(r => r.Namespace != "*").ToDictionary(r => r.Namespace, StringComparer.Ordinal);
        _fallback = options.Value.Namespaces.FirstOrDefault(r => r.Namespace == "*") ?? Open;
        _grantsClaim = options.Value.GrantsClaim;
        _clockSkew = jwt.Value.ClockSkew;
        _authorizer = authorizer;
        _time = time;
        _metrics = metrics;
        IsOpen = options.Value.Namespaces.Count == 0 && authorizer is null;
    }

    /// <summary>No rule and no authorizer: every client may do everything.</summary>
    public bool IsOpen { get; }

    /// <summary>The policy that applies to <paramref name="namespace"/>.</summary>
    public NamespacePolicy PolicyOf(string @namespace) => _rules.GetValueOrDefault(@namespace) ?? _fallback;

    /// <summary>Throws <see cref="RealtimeForbiddenException"/> unless the client may do what <paramref name="context"/> says.</summary>
    public async ValueTask EnsureAllowedAsync(RealtimeAuthorizationContext context, CancellationToken cancellationToken = default)
    {
        if (IsOpen)
        {
            return;
        }

        var reason = PolicyRefusal(context);
        if (reason is null && _authorizer is not null)
        {
            var decision = await _authorizer.AuthorizeAsync(context, cancellationToken);
            reason = decision.Allowed ? null : decision.Reason ?? "the application refused it.";
        }

        if (reason is not null)
        {
            _metrics.Rejected(RejectionReason.Forbidden);
            throw new RealtimeForbiddenException(reason);
        }
    }

    /// <summary>The same for a socket.io socket (in a handler of a client event): its namespace, user and rooms.</summary>
    public ValueTask EnsureAllowedAsync(SocketIO.Socket socket, RealtimeOperation operation, string? room, CancellationToken cancellationToken = default) =>
        EnsureAllowedAsync(
            new RealtimeAuthorizationContext(operation, socket.Namespace.Name, room, socket.Id, socket.Handshake.User, room is not null && socket.Rooms.Contains(room)),
            cancellationToken);

    private string? PolicyRefusal(RealtimeAuthorizationContext context)
    {
        var policy = PolicyOf(context.Namespace);
        var access = context.Operation switch
        {
            RealtimeOperation.Join => policy.Join,
            RealtimeOperation.Send => policy.Send,
            RealtimeOperation.Presence => policy.Presence,
            RealtimeOperation.Broadcast => policy.Broadcast,
            _ => policy.Close,
        };
        var what = Describe(context);
        switch (access)
        {
            case RoomAccess.Anyone:
                return null;
            case RoomAccess.Nobody:
                return $"in {context.Namespace}, only the server may {what}.";
            case RoomAccess.Authenticated:
                return Authenticated(context.User) ? Expired(context.User, what) : $"in {context.Namespace}, only signed-in users may {what}.";
            case RoomAccess.Members when context.Room is null:
                // The namespace's presence: every connection of the namespace is a member of it.
                return null;
            case RoomAccess.Members:
                return context.IsMember ? null : $"only members of room '{context.Room}' may {what}.";
            default:
                if (context.Room is null)
                {
                    return $"in {context.Namespace}, {what} needs a room grant, and names no room.";
                }

                return !Grants(context.User, context.Room)
                    ? $"the token does not grant room '{context.Room}' (claim '{_grantsClaim}'), which {what} in {context.Namespace} needs."
                    : Expired(context.User, what);
        }
    }

    private static string Describe(RealtimeAuthorizationContext context) => context.Operation switch
    {
        RealtimeOperation.Join => $"join room '{context.Room}'",
        RealtimeOperation.Send => $"send to room '{context.Room}'",
        RealtimeOperation.Presence when context.Room is null => "list the namespace's connections",
        RealtimeOperation.Presence => $"list the members of room '{context.Room}'",
        RealtimeOperation.Broadcast => "broadcast to the namespace",
        _ => $"close room '{context.Room}'",
    };

    private static bool Authenticated(ClaimsPrincipal user) => user.Identity?.IsAuthenticated == true;

    /// <summary>A token's rights end with it: a connection outliving its token keeps its connection, not its grants.</summary>
    private string? Expired(ClaimsPrincipal user, string what)
    {
        if (user.FindFirst("exp")?.Value is { } exp && long.TryParse(exp, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
        {
            var expiry = DateTimeOffset.FromUnixTimeSeconds(seconds);
            if (_time.GetUtcNow() > expiry + _clockSkew)
            {
                return $"the token that allowed this connection to {what} expired at {expiry:u}; reconnect with a new one.";
            }
        }

        return null;
    }

    private bool Grants(ClaimsPrincipal user, string room)
    {
        foreach (var claim in user.FindAll(_grantsClaim))
        {
            var grant = claim.Value;
            if (grant == room || (grant.EndsWith('*') && room.StartsWith(grant.AsSpan(0, grant.Length - 1), StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }
}
