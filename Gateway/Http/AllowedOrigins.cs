using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.Http;

/// <summary>
/// <c>Gateway:AllowedOrigins</c>: a browser request to a hub, to socket.io or to an Engine.IO endpoint (WebSocket, SSE, long polling, the
/// negotiate and handshake requests) from a page of another origin is refused with 403. The gateway's own origin is
/// always allowed, and a request without an <c>Origin</c> header (a server, a native client) is not a browser's page
/// and goes on. An empty list allows every origin.
/// </summary>
internal sealed class AllowedOrigins(RequestDelegate next, IOptions<GatewayOptions> gateway, SocketIO.Engine.EngineIOEndpoints engines, GatewayMetrics metrics, ILogger<AllowedOrigins> logger)
{
    /// <summary>
    /// The CORS policy of the hubs: the listed origins may call them from their pages (negotiate, SSE and long polling
    /// need it), with credentials. With no list, no origin gets CORS headers, as before.
    /// </summary>
    public const string CorsPolicy = "Realtime.AllowedOrigins";

    private readonly OriginList _origins = new(gateway.Value.AllowedOrigins);
    private readonly PathString _hubPath = gateway.Value.HubPath;

    public Task InvokeAsync(HttpContext context)
    {
        if (_origins.IsEmpty || context.Request.Headers.Origin.ToString() is not { Length: > 0 } origin || !IsRealtime(context)
            || _origins.Allows(origin) || IsOwn(origin, context.Request))
        {
            return next(context);
        }

        metrics.Rejected(RejectionReason.Origin);
        GatewayLog.OriginRefused(logger, origin, context.Request.Path.Value ?? "");
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync($"The origin {origin} is not allowed to connect (Gateway:AllowedOrigins).");
    }

    private bool IsRealtime(HttpContext context) =>
        context.WebSockets.IsWebSocketRequest
        || context.Request.Path.StartsWithSegments(_hubPath)
        || engines.Serves(context.Request.Path)
        || context.GetEndpoint()?.Metadata.GetMetadata<HubMetadata>() is not null;

    private static bool IsOwn(string origin, HttpRequest request) =>
        string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The origins of <c>Gateway:AllowedOrigins</c>: exact ones, <c>https://*.example.com</c> (any subdomain, not
/// <c>https://example.com</c> itself), or <c>*</c> for all.
/// </summary>
internal sealed class OriginList(string[] origins)
{
    private readonly string[] _exact = [.. origins.Where(o => !o.Contains("://*.", StringComparison.Ordinal))];

    private readonly (string Scheme, string Suffix)[] _wildcards = [.. origins
        .Where(o => o.Contains("://*.", StringComparison.Ordinal))
        .Select(o => (o[..(o.IndexOf("://", StringComparison.Ordinal) + 3)], o[(o.IndexOf("://*.", StringComparison.Ordinal) + 4)..]))];

    public bool IsEmpty => origins.Length == 0;

    public bool Allows(string origin)
    {
        if (_exact.Contains("*") || _exact.Contains(origin, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var (scheme, suffix) in _wildcards)
        {
            if (origin.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
                && origin.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && origin.Length > scheme.Length + suffix.Length)
            {
                return true;
            }
        }

        return false;
    }
}
