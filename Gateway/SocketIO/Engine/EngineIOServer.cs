using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.SocketIO.Engine;

/// <summary>
/// The Engine.IO v4 endpoint: handshakes, long-polling, WebSocket and the upgrade between them, for the sessions
/// this gateway owns. A session id names its gateway, so a request for another gateway's session (sent here by a
/// load balancer without sticky sessions) is forwarded to that gateway: polling requests over HTTP, WebSockets frame
/// by frame.
/// </summary>
internal sealed class EngineIOServer
{
    /// <summary>Marks a request forwarded by another gateway, which is never forwarded again.</summary>
    public const string ForwardedHeader = "X-Realtime-Forwarded";

    private readonly ConcurrentDictionary<string, EngineSession> _sessions = new(StringComparer.Ordinal);
    private readonly EngineIOOptions _options;
    private readonly GatewayReceiver _gateway;
    private readonly SessionForwarder _forwarder;
    private readonly ILogger _logger;
    private readonly string _sidPrefix;

    private readonly GatewayMetrics _metrics;

    private readonly TimeProvider _time;

    public EngineIOServer(EngineIOOptions options, GatewayReceiver gateway, SessionForwarder forwarder, GatewayMetrics metrics, TimeProvider time, ILogger<EngineIOServer> logger)
    {
        _time = time;
        _metrics = metrics;
        _options = options;
        _gateway = gateway;
        _forwarder = forwarder;
        _logger = logger;
        _sidPrefix = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(gateway.GatewayId)) + ".";
    }

    /// <summary>Creates the Socket.IO layer of a new session.</summary>
    public Func<EngineSession, HttpContext, IEngineHandler>? HandlerFactory { get; set; }

    public int SessionCount => _sessions.Count;

    public async Task HandleAsync(HttpContext context)
    {
        if (EngineHttp.ApplyCors(context, _options.CorsOrigins))
        {
            return;
        }

        var query = context.Request.Query;
        if (query["EIO"] != "4")
        {
            await EngineHttp.WriteErrorAsync(context, EngineError.UnsupportedProtocolVersion);
            return;
        }

        var transport = query["transport"].ToString();
        if (!_options.Transports.Contains(transport))
        {
            await EngineHttp.WriteErrorAsync(context, EngineError.UnknownTransport);
            return;
        }

        var isWebSocket = context.WebSockets.IsWebSocketRequest;
        if ((transport == "websocket") != isWebSocket)
        {
            await EngineHttp.WriteErrorAsync(context, EngineError.BadRequest);
            return;
        }

        var sid = query["sid"].ToString();
        if (sid.Length == 0)
        {
            await HandshakeAsync(context, isWebSocket);
            return;
        }

        if (!_sessions.TryGetValue(sid, out var session))
        {
            if (OwnerOf(sid) is { } owner && owner != _gateway.GatewayId && !context.Request.Headers.ContainsKey(ForwardedHeader))
            {
                await _forwarder.ForwardAsync(context, sid, owner, _options);
            }
            else
            {
                await EngineHttp.WriteErrorAsync(context, EngineError.UnknownSid);
            }

            return;
        }

        if (isWebSocket)
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await session.UpgradeAsync(socket, BurstWrites.Of(context));
        }
        else if (HttpMethods.IsGet(context.Request.Method))
        {
            await session.PollAsync(context);
        }
        else if (HttpMethods.IsPost(context.Request.Method))
        {
            await session.PostAsync(context);
        }
        else
        {
            await EngineHttp.WriteErrorAsync(context, EngineError.BadRequest);
        }
    }

    /// <summary>Closes every session, telling each client to reconnect (to another gateway).</summary>
    public void CloseAll()
    {
        foreach (var (_, session) in _sessions)
        {
            session.Close("server shutting down");
        }
    }

    private async Task HandshakeAsync(HttpContext context, bool isWebSocket)
    {
        if (!isWebSocket && !HttpMethods.IsGet(context.Request.Method))
        {
            await EngineHttp.WriteErrorAsync(context, EngineError.BadHandshakeMethod);
            return;
        }

        var transport = isWebSocket ? EngineTransport.WebSocket : EngineTransport.Polling;
        var session = new EngineSession(_sidPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(15)), transport, _options, Remove, _logger) { Metrics = _metrics, Time = _time };
        session.Handler = HandlerFactory?.Invoke(session, context);
        _sessions[session.Id] = session;
        EngineLog.Opened(_logger, session.Id, transport.ToString());
        if (isWebSocket)
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await session.RunWebSocketAsync(socket, BurstWrites.Of(context));
            return;
        }

        session.StartHeartbeat();
        context.Response.ContentType = "text/plain; charset=UTF-8";
        await context.Response.WriteAsync(session.OpenPacket(upgradable: _options.Transports.Contains("websocket")));
    }

    private void Remove(EngineSession session) => _sessions.TryRemove(KeyValuePair.Create(session.Id, session));

    /// <summary>The gateway a session id names, or null when it names none.</summary>
    internal static string? OwnerOf(string sid)
    {
        var dot = sid.LastIndexOf('.');
        if (dot <= 0)
        {
            return null;
        }

        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(sid.AsSpan(0, dot)));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
