using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Http.Admin;

/// <summary>The admin view's authorization policy: an admin key (<c>X-Admin-Key</c>, or <c>access_token</c> as the page's SignalR client sends it), or a token with the admin role.</summary>
internal sealed class AdminAccess(IOptions<AdminOptions> options) : AuthorizationHandler<AdminAccess.Requirement>
{
    public const string PolicyName = "RealtimeAdmin";

    private readonly KeySet _keys = new(options.Value.Keys);
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
            given = RequestToken.From(request);
        }

        return given.Length > 0 && _keys.Contains(given);
    }

    internal sealed class Requirement : IAuthorizationRequirement;
}
