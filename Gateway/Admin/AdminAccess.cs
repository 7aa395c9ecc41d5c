using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Admin;

/// <summary>The admin view's authorization policy: an admin key (<c>X-Admin-Key</c>, or <c>access_token</c> as the page's SignalR client sends it), or a token with the admin role.</summary>
internal sealed class AdminAccess(IOptions<AdminOptions> options) : AuthorizationHandler<AdminAccess.Requirement>
{
    public const string PolicyName = "RealtimeAdmin";

    private readonly byte[][] _keys = [.. options.Value.Keys.Select(Encoding.UTF8.GetBytes)];
    private readonly string? _role = options.Value.Role;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, Requirement requirement)
    {
        if ((!string.IsNullOrEmpty(_role) && context.User.IsInRole(_role)) || (context.Resource is HttpContext http && HasKey(http.Request)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }

    private bool HasKey(HttpRequest request)
    {
        // The page's SignalR client sends its access token in the query (WebSockets) or as a bearer token (negotiate).
        var given = request.Headers["X-Admin-Key"].ToString();
        if (given.Length == 0)
        {
            given = request.Query["access_token"].ToString();
        }

        if (given.Length == 0 && request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            given = header["Bearer ".Length..].Trim();
        }

        if (given.Length == 0)
        {
            return false;
        }

        var bytes = Encoding.UTF8.GetBytes(given);
        var match = false;
        foreach (var key in _keys)
        {
            match |= CryptographicOperations.FixedTimeEquals(bytes, key);
        }

        return match;
    }

    internal sealed class Requirement : IAuthorizationRequirement;
}
