using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Realtime.Gateway.Observability;
using Realtime.Gateway.SocketIO.Engine;

namespace Realtime.Gateway.Http;

/// <summary>How many SignalR connections this gateway holds (Engine.IO sessions are counted by their servers).</summary>
internal sealed class OpenConnections
{
    private int _signalR;

    public void SignalRConnected() => Interlocked.Increment(ref _signalR);

    public void SignalRDisconnected() => Interlocked.Decrement(ref _signalR);

    public int SignalR => Volatile.Read(ref _signalR);
}

/// <summary>
/// <c>Gateway:MaxConnections</c>: a new connection (a SignalR negotiate or connect without a connection id, a
/// socket.io or Engine.IO handshake without a session id) is refused with 503 and <c>Retry-After</c> while the gateway
/// holds that many; requests of connections it already holds go on.
/// </summary>
internal sealed class ConnectionLimit(
    RequestDelegate next,
    IOptions<GatewayOptions> gateway,
    OpenConnections open,
    EngineIOEndpoints engines,
    GatewayMetrics metrics,
    ILogger<ConnectionLimit> logger)
{
    private readonly int _max = gateway.Value.MaxConnections;

    public Task InvokeAsync(HttpContext context)
    {
        if (_max == 0 || !IsNewConnection(context))
        {
            return next(context);
        }

        var connections = open.SignalR + engines.SessionCount;
        if (connections < _max)
        {
            return next(context);
        }

        metrics.Rejected(RejectionReason.TooManyConnections);
        GatewayLog.TooManyConnections(logger, connections, _max);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "5";
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync($"The gateway holds as many connections as it takes ({_max}, Gateway:MaxConnections); connect to another one.");
    }

    private bool IsNewConnection(HttpContext context)
    {
        var request = context.Request;
        if (engines.Serves(request.Path))
        {
            return !request.Query.ContainsKey("sid") && !request.Path.Value!.EndsWith(".js", StringComparison.Ordinal);
        }

        if (context.GetEndpoint()?.Metadata.GetMetadata<HubMetadata>() is null)
        {
            return false;
        }

        // A negotiate opens a connection; so does a connect that skipped it (a WebSocket without an id).
        return request.Path.Value!.EndsWith("/negotiate", StringComparison.Ordinal) || !request.Query.ContainsKey("id");
    }
}
