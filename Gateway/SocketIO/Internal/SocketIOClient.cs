using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Realtime.Contracts;
using Realtime.Gateway.Authentication;
using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;
using Realtime.Gateway.SignalR;
using Realtime.Gateway.SocketIO.Engine;
using Realtime.Gateway.SocketIO.Protocol;

namespace Realtime.Gateway.SocketIO.Internal;

/// <summary>A Socket.IO packet with its binary attachments, once they all arrived.</summary>
internal sealed record SocketIOPacketData(SocketIOPacketType Type, string Namespace, JsonElement? Data, long? AckId, IReadOnlyList<ReadOnlyMemory<byte>> Attachments);

/// <summary>
/// The Socket.IO v5 layer of one Engine.IO session: it decodes packets (joining binary attachments to their
/// packet), connects the client to namespaces and routes events and acknowledgements to its sockets. A packet that
/// breaks the protocol closes this session, and only this one.
/// </summary>
internal sealed partial class SocketIOClient : IEngineHandler
{
    private const int MaxAttachments = 100;

    private readonly SocketIOServer _server;
    private readonly EngineSession _engine;
    private readonly ConcurrentDictionary<string, Socket> _sockets = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private readonly SocketIOHandshake _handshake;
    private readonly string? _authFailure;
    private SocketIOPacket? _partial;
    private List<ReadOnlyMemory<byte>>? _partialAttachments;
    private int _everConnected;

    public SocketIOClient(SocketIOServer server, EngineSession engine, HttpContext context)
    {
        _server = server;
        _engine = engine;
        _logger = server.Logger("Realtime.Gateway.SocketIO");
        var request = context.Request;
        _handshake = new SocketIOHandshake(
            request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal),
            context.Connection.RemoteIpAddress?.ToString() ?? "",
            server.Hub.Time.GetUtcNow(),
            request.Path + request.QueryString,
            EmptyObject,
            context.User);
        _authFailure = context.Items[JwtBearerSetup.FailureItem] as string;
        _ = CloseUnlessConnectedAsync();
    }

    /// <summary>The transport the session uses now, as metrics tag it.</summary>
    public string TransportName => _engine.Transport == EngineTransport.WebSocket ? "websocket" : "polling";

    private static JsonElement EmptyObject { get; } = JsonDocument.Parse("{}").RootElement;

    /// <summary>Completes when each of the client's sockets has room for another event (see <see cref="SocketIOOptions.MaxQueuedEvents"/>).</summary>
    public Task ReadyForMoreAsync()
    {
        List<Task>? waits = null;
        foreach (var (_, socket) in _sockets)
        {
            if (socket.RoomForEventsAsync() is { IsCompleted: false } room)
            {
                (waits ??= []).Add(room);
            }
        }

        return waits is null ? Task.CompletedTask : Task.WhenAll(waits);
    }

    /// <summary>Handles a message packet; a <see cref="ProtocolException"/> tells the engine to close the session.</summary>
    public void OnMessage(EngineIOPacket packet)
    {
        if (!packet.IsBinary)
        {
            _server.Hub.Metrics.Received(GatewayMetrics.SocketIOProtocol, Encoding.UTF8.GetByteCount(packet.Text), 1);
            OnText(SocketIOCodec.Decode(packet.Text));
            return;
        }

        // A binary attachment adds its bytes to its packet's message.
        _server.Hub.Metrics.Received(GatewayMetrics.SocketIOProtocol, packet.Binary!.Value.Length, 0);
        if (_partial is null)
        {
            throw new ProtocolException("A binary message arrived that no packet announced.");
        }

        _partialAttachments!.Add(packet.Binary!.Value);
        if (_partialAttachments.Count == _partial.Attachments)
        {
            var complete = _partial;
            var attachments = _partialAttachments;
            _partial = null;
            _partialAttachments = null;
            Dispatch(complete, attachments);
        }
    }

    /// <summary>A text packet over WebSocket, decoded from its UTF-8 in the receive buffer (no string made of it).</summary>
    public void OnMessage(ReadOnlySpan<byte> utf8)
    {
        _server.Hub.Metrics.Received(GatewayMetrics.SocketIOProtocol, utf8.Length, 1);
        OnText(SocketIOCodec.Decode(utf8));
    }

    private void OnText(SocketIOPacket decoded)
    {
        if (_partial is not null)
        {
            throw new ProtocolException($"Expected {_partial.Attachments - _partialAttachments!.Count} more binary attachment(s), got a text packet.");
        }

        if (decoded.Type is SocketIOPacketType.BinaryEvent or SocketIOPacketType.BinaryAck && decoded.Attachments > 0)
        {
            if (decoded.Attachments > MaxAttachments)
            {
                throw new ProtocolException($"A packet may carry at most {MaxAttachments} attachments.");
            }

            _partial = decoded;
            _partialAttachments = new List<ReadOnlyMemory<byte>>(decoded.Attachments);
            return;
        }

        Dispatch(decoded, []);
    }

    public void OnClose(string reason)
    {
        foreach (var (_, socket) in _sockets)
        {
            Detach(socket, reason);
        }
    }

    /// <summary>Queues a socket.io frame: its text packet, then its attachments.</summary>
    public void Send(SocketIOFrame frame)
    {
        var bytes = (long)frame.Text.Length;
        foreach (var attachment in frame.Attachments)
        {
            bytes += attachment.Length;
        }

        _server.Hub.Metrics.Sent(GatewayMetrics.SocketIOProtocol, 1, bytes);
        if (frame.Attachments.Length == 0)
        {
            _engine.Send(new OutgoingPacket(frame.Text, false));
            return;
        }

        var packets = new OutgoingPacket[1 + frame.Attachments.Length];
        packets[0] = new OutgoingPacket(frame.Text, false);
        for (var i = 0; i < frame.Attachments.Length; i++)
        {
            packets[i + 1] = new OutgoingPacket(frame.Attachments[i], true);
        }

        _engine.Send(packets);
    }

    public void Close(string reason) => _engine.Close(reason);

    /// <summary>Takes a socket off this client; it leaves the cluster and its disconnect handlers run.</summary>
    public void Detach(Socket socket, string reason)
    {
        if (_sockets.TryRemove(KeyValuePair.Create(socket.Namespace.Name, socket)))
        {
            socket.Closed(reason);

            // Known here until it has left the cluster, so that a recovery of its session waits for that.
            _ = socket.Gone.ContinueWith(_ => _server.Untrack(socket), TaskScheduler.Default);
        }
    }

    private void Dispatch(SocketIOPacket packet, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        if (attachments.Count > 0 && packet.Data is { } data && SocketIOEncoding.CountPlaceholders(data) > attachments.Count)
        {
            throw new ProtocolException("A placeholder refers to an attachment that was not sent.");
        }

        var full = new SocketIOPacketData(packet.Type, packet.Namespace, packet.Data, packet.AckId, attachments);
        _sockets.TryGetValue(packet.Namespace, out var socket);
        switch (packet.Type)
        {
            case SocketIOPacketType.Connect:
                _ = ConnectAsync(packet.Namespace, packet.Data);
                return;
            case SocketIOPacketType.Disconnect:
                if (socket is not null)
                {
                    Detach(socket, "client namespace disconnect");
                }

                return;
            case SocketIOPacketType.Event or SocketIOPacketType.BinaryEvent:
                if (socket is not null && !WithinRateLimit(socket, full))
                {
                    return;
                }

                socket?.HandleEvent(full);
                return;
            case SocketIOPacketType.Ack or SocketIOPacketType.BinaryAck:
                socket?.HandleAck(full);
                return;
            default:
                throw new ProtocolException($"A client does not send {packet.Type} packets.");
        }
    }

    /// <summary>
    /// Takes an event from the session's rate limit (<c>Gateway:RateLimit</c>). Over it, the event is dropped and
    /// its callback, if any, gets <c>{ error }</c>; a session that goes on is closed.
    /// </summary>
    private bool WithinRateLimit(Socket socket, SocketIOPacketData packet)
    {
        var limits = _server.Limits;
        if (!limits.Enabled)
        {
            return true;
        }

        var bytes = packet.Data is { } data ? System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(data).Length : 0L;
        foreach (var attachment in packet.Attachments)
        {
            bytes += attachment.Length;
        }

        if (limits.Take(_engine.Id, bytes) is not { } refusal)
        {
            return true;
        }

        _server.Hub.Metrics.Rejected(RejectionReason.RateLimited);
        if (limits.Abusive(_engine.Id))
        {
            GatewayLog.Flooding(_logger, _engine.Id);
            _engine.Close("rate limit");
            return false;
        }

        if (packet.AckId is { } ackId)
        {
            Send(SocketIOEncoding.AckFrame(socket.Namespace.Name, ackId, [new { error = refusal }]));
        }

        return false;
    }

    private async Task ConnectAsync(string name, JsonElement? auth)
    {
        TaskCompletionSource<bool>? answered = null;
        try
        {
            var @namespace = _server.Resolve(name);
            if (@namespace is null)
            {
                Refuse(name, "Invalid namespace", null);
                return;
            }

            if (_sockets.ContainsKey(name) || _engine.IsClosed)
            {
                return;
            }

            var principal = _handshake.User;
            if (_authFailure is not null)
            {
                Refuse(name, $"Authentication failed: {_authFailure}", null);
                return;
            }

            if (_server.Jwt.Requires(name) && principal.Identity?.IsAuthenticated != true)
            {
                Refuse(name, $"The namespace {name} requires a token: pass a JWT as the access_token query parameter or in the Authorization header.", null);
                return;
            }

            var userId = principal.Identity?.IsAuthenticated == true ? principal.FindFirst(ClaimTypes.NameIdentifier)?.Value : null;
            var recovery = _server.Options.ConnectionStateRecovery;
            RecoveredSession? recovered;
            try
            {
                recovered = recovery.Enabled ? await TryRecoverAsync(name, auth, userId) : null;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The client is answered at once, not left to its connect timeout; its session waits for its next try.
                EngineLog.HandlerFailed(_logger, _engine.Id, ex);
                Refuse(name, "The cluster is not available; try again.", null);
                return;
            }

            var socket = new Socket(this, @namespace, recovered?.SocketId ?? SocketIOServer.NewSocketId(), _handshake with { Auth = auth?.Clone() ?? EmptyObject }, userId, _logger)
            {
                Recovered = recovered is not null,
            };
            if (recovered is not null)
            {
                socket.RestoreData(recovered.Plan.Session.Session.Data);
            }

            if (recovered is null || !recovery.SkipMiddlewares)
            {
                foreach (var middleware in @namespace.Middleware)
                {
                    if (await RunMiddlewareAsync(middleware, socket, name) is false)
                    {
                        if (recovered is not null)
                        {
                            await _server.Hub.ForgoRecoveryAsync(socket.Id);
                        }

                        return;
                    }
                }
            }

            var connection = new SocketIOConnection(socket, this, new Member(socket.Id, _server.Hub.GatewayId, userId))
            {
                OwnRoomKey = LocalHub<RealtimeHub>.RoomKeyOf(name, socket.Id),
                Data = recovered is not null ? recovered.Plan.Session.Session.Data : socket.TakeChangedData(), // what the middleware set; the session opens with it
                Recovery = recovery.Enabled ? new RecoveryPositions(new GroupPosition(LocalHub<RealtimeHub>.SessionStart, 0)) { Restoring = recovered is not null } : null,
                RecoverableFor = recovery.Enabled ? recovery.MaxDisconnectionDuration : null,
            };
            if (recovered is not null)
            {
                // Where the client is in each stream: the replay moves on from there.
                connection.WithPositions(positions =>
                {
                    foreach (var stream in recovered.Plan.Streams)
                    {
                        if (stream.Target == DeliveryTarget.Connection)
                        {
                            positions.SetOwn(stream.From);
                        }
                        else
                        {
                            positions.Set(stream.Key, stream.From);
                        }
                    }
                });
            }

            socket.Connection = connection;

            // The connection handlers are queued before the socket can be given any event, and run once the client
            // has the CONNECT answer (true) or not at all (false): an event the client sends as soon as it has the
            // answer, or even before, waits for the handlers that register its own handler.
            answered = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            socket.Start(@namespace.ConnectionHandlers, answered.Task);
            if (!_sockets.TryAdd(name, socket))
            {
                answered.SetResult(false);
                return;
            }

            Interlocked.Exchange(ref _everConnected, 1);
            _server.Track(socket);
            @namespace.SocketJoined(socket);
            try
            {
                if (recovered is not null)
                {
                    await _server.Hub.ConnectRecoveredAsync(connection, recovered.Plan);
                }
                else
                {
                    await _server.Hub.ConnectAsync(connection);
                }
            }
            catch (Exception ex)
            {
                EngineLog.SocketHandlerFailed(_logger, socket.Id, ex);
                answered.SetResult(false);
                Refuse(name, "The cluster is not available; try again.", null);
                Detach(socket, "server error");
                return;
            }

            var pid = connection.RecoveryToken is { } token ? socket.Id + PidSeparator + token : null;
            connection.Answer(SocketIOEncoding.ControlFrame('0', name, pid is null ? JsonSerializer.Serialize(new { sid = socket.Id }) : JsonSerializer.Serialize(new { sid = socket.Id, pid })));
            answered.SetResult(true);
            if (recovered is not null)
            {
                bool complete;
                try
                {
                    complete = await _server.Hub.ReplayRecoveredAsync(connection, recovered.Plan);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The client has its old id, so it believes it recovered, but did not get what it missed: it must not
                    // go on with a gap. Closed, it reconnects and recovers again from where it is.
                    EngineLog.HandlerFailed(_logger, _engine.Id, ex);
                    complete = false;
                }

                connection.WithPositions(static positions => positions.Restoring = false);
                if (!complete)
                {
                    // History lost some of what the client missed since the plan was made (it reconnects, and starts
                    // afresh), or the cluster failed while it was read (it reconnects, and recovers again).
                    EngineLog.RecoveryIncomplete(_logger, socket.Id);
                    _engine.Close("transport error");
                    return;
                }

                EngineLog.Recovered(_logger, socket.Id);
            }

            if (_engine.IsClosed)
            {
                Detach(socket, "transport close");
            }
        }
        catch (Exception ex)
        {
            answered?.TrySetResult(false);
            EngineLog.HandlerFailed(_logger, _engine.Id, ex);
        }
    }

    /// <summary>Runs one middleware; false when it refused the socket (the client was told why).</summary>
    private async Task<bool> RunMiddlewareAsync(Func<Socket, Task> middleware, Socket socket, string name)
    {
        try
        {
            await middleware(socket);
            return true;
        }
        catch (SocketIOConnectionRefusedException ex)
        {
            Refuse(name, ex.Message, ex.Details);
            return false;
        }
        catch (Exception ex)
        {
            EngineLog.SocketHandlerFailed(_logger, socket.Id, ex);
            Refuse(name, "The server refused the connection.", null);
            return false;
        }
    }

    private void Refuse(string name, string message, object? details) =>
        Send(SocketIOEncoding.ControlFrame('4', name, JsonSerializer.Serialize(details is null ? (object)new { message } : new { message, data = details })));

    /// <summary>Closes the session when the client joins no namespace in time, as socket.io's connectTimeout.</summary>
    private async Task CloseUnlessConnectedAsync()
    {
        try
        {
            await Task.Delay(_server.Options.ConnectTimeout, _server.Hub.Time, _engine.Closing);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (Volatile.Read(ref _everConnected) == 0)
        {
            _engine.Close("connect timeout");
        }
    }
}
