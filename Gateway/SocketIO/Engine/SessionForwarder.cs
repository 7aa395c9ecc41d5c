using System.Collections.Concurrent;
using System.Net.WebSockets;
using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;
using Realtime.Grains.Gateways;

namespace Realtime.Gateway.SocketIO.Engine;

/// <summary>
/// Sends a request for a session another gateway owns to that gateway, and its answer back: what makes socket.io
/// long-polling work behind a balancer without sticky sessions. The owner's URL comes from the owner itself, through
/// the gateway service of the silo its id names; a session whose gateway is gone gets "Session ID unknown", and its
/// client starts a new one.
/// </summary>
internal sealed class SessionForwarder : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly ConcurrentDictionary<string, string> _urls = new(StringComparer.Ordinal);
    private readonly GatewayDirectory _gateways;
    private readonly GatewayReceiver _gateway;
    private readonly ILogger _logger;

    private readonly GatewayMetrics _metrics;

    public SessionForwarder(GatewayDirectory gateways, GatewayReceiver gateway, GatewayMetrics metrics, ILogger<SessionForwarder> logger)
    {
        _metrics = metrics;
        _gateways = gateways;
        _gateway = gateway;
        _logger = logger;
    }

    /// <summary>Forwards a request of an endpoint with <paramref name="options"/> to the same endpoint of <paramref name="owner"/>.</summary>
    public async Task ForwardAsync(HttpContext context, string sid, string owner, EngineIOOptions options)
    {
        var url = await UrlOfAsync(owner);
        if (url is null)
        {
            await EngineHttp.WriteErrorAsync(context, EngineError.UnknownSid);
            return;
        }

        _metrics.Forwarded();
        var target = url + context.Request.Path + context.Request.QueryString;
        try
        {
            if (context.WebSockets.IsWebSocketRequest)
            {
                await ForwardWebSocketAsync(context, target);
            }
            else
            {
                await ForwardHttpAsync(context, target, options);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or WebSocketException or IOException or OperationCanceledException)
        {
            EngineLog.ForwardFailed(_logger, sid, owner, url, ex.Message);
            if (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
            {
                _urls.TryRemove(owner, out _);
                await EngineHttp.WriteErrorAsync(context, EngineError.UnknownSid);
            }
        }
    }

    private async Task<string?> UrlOfAsync(string owner)
    {
        if (_urls.TryGetValue(owner, out var url))
        {
            return url;
        }

        if (_gateways.SiloOf(owner) is not { } silo || !_gateways.IsActive(silo))
        {
            return null;
        }

        try
        {
            url = await _gateways.OfSilo(silo).Url();
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException)
        {
            // Unreachable, as good as gone for this request: the client starts a new session.
            EngineLog.ForwardFailed(_logger, "", owner, "", ex.Message);
            return null;
        }

        if (url is not null)
        {
            if (_urls.Count > 10_000)
            {
                _urls.Clear();
            }

            _urls[owner] = url;
        }

        return url;
    }

    private async Task ForwardHttpAsync(HttpContext context, string target, EngineIOOptions options)
    {
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
        request.Headers.TryAddWithoutValidation(EngineIOServer.ForwardedHeader, _gateway.GatewayId);
        if (HttpMethods.IsPost(context.Request.Method))
        {
            var body = await EngineHttp.ReadBodyAsync(context, options.MaxPayload);
            if (body is null)
            {
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                return;
            }

            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "text/plain");
        }

        // A GET may wait a whole ping interval for packets; it never waits longer than interval and timeout.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(options.PingInterval + options.PingTimeout + TimeSpan.FromSeconds(5));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        context.Response.StatusCode = (int)response.StatusCode;
        if (response.Content.Headers.ContentType is { } contentType)
        {
            context.Response.ContentType = contentType.ToString();
        }

        await response.Content.CopyToAsync(context.Response.Body, deadline.Token);
    }

    private async Task ForwardWebSocketAsync(HttpContext context, string target)
    {
        using var upstream = new ClientWebSocket();
        upstream.Options.SetRequestHeader(EngineIOServer.ForwardedHeader, _gateway.GatewayId);
        upstream.Options.Proxy = null;
        var uri = new Uri("ws" + target[4..]); // http://… becomes ws://…, https://… wss://…
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted))
        {
            connect.CancelAfter(TimeSpan.FromSeconds(10));
            await upstream.ConnectAsync(uri, connect.Token);
        }

        using var downstream = await context.WebSockets.AcceptWebSocketAsync();
        using var stop = new CancellationTokenSource();
        var up = PumpAsync(downstream, upstream, stop.Token);
        var down = PumpAsync(upstream, downstream, stop.Token);
        await Task.WhenAny(up, down);
        await stop.CancelAsync();
        await Task.WhenAll(up, down);
    }

    /// <summary>Copies messages from one WebSocket to the other until either closes.</summary>
    private async Task PumpAsync(WebSocket from, WebSocket to, CancellationToken stop)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var result = await from.ReceiveAsync(buffer, stop);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (to.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        await to.CloseOutputAsync(result.CloseStatus ?? WebSocketCloseStatus.NormalClosure, result.CloseStatusDescription, CancellationToken.None);
                    }

                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, stop);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            to.Abort();
        }
    }

    public void Dispose() => _http.Dispose();
}
