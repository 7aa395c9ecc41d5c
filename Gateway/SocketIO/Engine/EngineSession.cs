using System.Text;
using Realtime.Gateway.Observability;
using Realtime.Gateway.SocketIO.Protocol;

namespace Realtime.Gateway.SocketIO.Engine;

/// <summary>An Engine.IO packet on its way out: a text packet (UTF-8, type digit first) or binary message data.</summary>
internal readonly record struct OutgoingPacket(ReadOnlyMemory<byte> Data, bool IsBinary)
{
    public static OutgoingPacket Text(string text) => new(Encoding.UTF8.GetBytes(text), false);

    public static readonly OutgoingPacket Ping = Text("2");
    public static readonly OutgoingPacket Noop = Text("6");
    public static readonly OutgoingPacket Close = Text("1");
}

internal enum EngineTransport
{
    Polling,
    WebSocket,
}

/// <summary>What the layer above (Socket.IO) hears from an Engine.IO session.</summary>
internal interface IEngineHandler
{
    /// <summary>
    /// A message packet arrived; called by one thread at a time, in order. Throwing a <see cref="ProtocolException"/>
    /// closes the session as a parse error.
    /// </summary>
    void OnMessage(EngineIOPacket packet);

    /// <summary>
    /// A text message packet arrived over WebSocket: <paramref name="utf8"/> is its data (after the type), in the
    /// receive buffer, which is reused once the call returns. As <see cref="OnMessage(EngineIOPacket)"/> otherwise.
    /// </summary>
    void OnMessage(ReadOnlySpan<byte> utf8);

    /// <summary>The session closed (once), with the reason socket.io reports: <c>ping timeout</c>, <c>transport close</c>...</summary>
    void OnClose(string reason);

    /// <summary>
    /// Completes when the handler can take more of the client's messages; until then the transport reads no more (a
    /// WebSocket is not read, a polling POST is not answered): how a client that sends faster than its handlers work
    /// is held back.
    /// </summary>
    Task ReadyForMoreAsync();
}

/// <summary>
/// One Engine.IO v4 session: its transport (long-polling, then perhaps WebSocket), the packets waiting to be sent,
/// and the heartbeat. Outgoing packets are queued without waiting; a client that does not read them fast enough is
/// disconnected once <see cref="EngineIOOptions.MaxBufferedBytes"/> are waiting.
/// </summary>
internal sealed partial class EngineSession
{
    private readonly object _lock = new();
    private readonly List<OutgoingPacket> _buffer = [];
    private readonly EngineIOOptions _options;
    private readonly Action<EngineSession> _removed;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _closing = new();
    private TaskCompletionSource? _pollWaiter;
    private WebSocketWriter? _webSocketWriter;
    private TaskCompletionSource? _pong;
    private Func<ReadOnlyMemory<byte>, System.Net.WebSockets.WebSocketMessageType, EngineIOPacket?>? _readFrame;
    private long _bufferedBytes;
    private bool _polling;
    private bool _posting;
    private bool _upgrading;
    private bool _closed;

    public EngineSession(string id, EngineTransport transport, EngineIOOptions options, Action<EngineSession> removed, ILogger logger)
    {
        Id = id;
        Transport = transport;
        _options = options;
        _removed = removed;
        _logger = logger;
        if (transport == EngineTransport.WebSocket)
        {
            _webSocketWriter = NewWriter();
        }
    }

    public string Id { get; }

    public EngineTransport Transport { get; private set; }

    /// <summary>The clock of the heartbeat and the close handshake; set by the server that made the session.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where refused input is counted; set by the server that made the session.</summary>
    public GatewayMetrics? Metrics { get; init; }

    public IEngineHandler? Handler { get; set; }

    public bool IsClosed
    {
        get
        {
            lock (_lock)
            {
                return _closed;
            }
        }
    }

    /// <summary>Cancelled when the session closes.</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>The open packet: the session id and the settings the client must follow.</summary>
    public string OpenPacket(bool upgradable) =>
        "0" + System.Text.Json.JsonSerializer.Serialize(new
        {
            sid = Id,
            upgrades = upgradable ? new[] { "websocket" } : [],
            pingInterval = (long)_options.PingInterval.TotalMilliseconds,
            pingTimeout = (long)_options.PingTimeout.TotalMilliseconds,
            maxPayload = _options.MaxPayload,
        });

    /// <summary>Queues packets to be sent together, in order; false when the session is closed.</summary>
    public bool Send(OutgoingPacket packet) => Send([packet]);

    public bool Send(ReadOnlySpan<OutgoingPacket> packets)
    {
        var overflow = false;
        lock (_lock)
        {
            if (_closed)
            {
                return false;
            }

            var size = 0L;
            foreach (var packet in packets)
            {
                size += packet.Data.Length;
            }

            if (Interlocked.Add(ref _bufferedBytes, size) > _options.MaxBufferedBytes)
            {
                overflow = true;
            }
            else if (_webSocketWriter is { } writer && Transport == EngineTransport.WebSocket)
            {
                foreach (var packet in packets)
                {
                    writer.Enqueue(packet);
                }
            }
            else
            {
                _buffer.AddRange(packets);
                _pollWaiter?.TrySetResult();
            }
        }

        if (overflow)
        {
            EngineLog.SlowClient(_logger, Id, _options.MaxBufferedBytes);
            Close("transport error");
            return false;
        }

        return true;
    }

    /// <summary>Starts the heartbeat: a ping every interval, and the session closes when a pong is late.</summary>
    public void StartHeartbeat() => _ = HeartbeatAsync();

    private async Task HeartbeatAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.PingInterval, Time, _closing.Token);
                var pong = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref _pong, pong);
                if (!Send(OutgoingPacket.Ping))
                {
                    return;
                }

                var answered = await Task.WhenAny(pong.Task, Task.Delay(_options.PingTimeout, Time, _closing.Token));
                if (answered != pong.Task)
                {
                    EngineLog.PingTimeout(_logger, Id);
                    Close("ping timeout");
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Closed.
        }
    }

    /// <summary>Handles a packet the client sent, on whichever transport.</summary>
    public void Receive(EngineIOPacket packet)
    {
        switch (packet.Type)
        {
            case EngineIOPacketType.Pong:
                Volatile.Read(ref _pong)?.TrySetResult();
                return;
            case EngineIOPacketType.Message:
                Handler?.OnMessage(packet);
                return;
            case EngineIOPacketType.Close:
                // The client closes: a GET still waiting ends with a noop, as the protocol has it, not with a close.
                Close("transport close", byClient: true);
                return;
            case EngineIOPacketType.Noop or EngineIOPacketType.Ping or EngineIOPacketType.Upgrade:
                // A ping outside an upgrade probe, or a stray upgrade: nothing to do.
                return;
            default:
                throw new ProtocolException($"A client does not send {packet.Type} packets.");
        }
    }

    /// <summary>
    /// Closes the session; the first reason given is the one reported. A close the server decides is sent to the
    /// client as a close packet; one the client asked for is not sent back.
    /// </summary>
    public void Close(string reason, bool byClient = false)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            if (!byClient)
            {
                _buffer.Add(OutgoingPacket.Close);
            }

            _pollWaiter?.TrySetResult();
            _webSocketWriter?.Complete();
        }

        _closing.Cancel();
        _removed(this);
        EngineLog.Closed(_logger, Id, reason);
        try
        {
            Handler?.OnClose(reason);
        }
        catch (Exception ex)
        {
            EngineLog.HandlerFailed(_logger, Id, ex);
        }
    }

    private WebSocketWriter NewWriter() => new(written => Interlocked.Add(ref _bufferedBytes, -written), reason => Close(reason));
}
