using System.Text;
using Realtime.Gateway.SocketIO.Protocol;

namespace Realtime.Gateway.SocketIO.Engine;

/// <summary>A message of an Engine.IO socket: text, or binary data.</summary>
public readonly record struct EngineIOMessage(string? Text, ReadOnlyMemory<byte> Binary)
{
    public bool IsBinary => Text is null;

    public static EngineIOMessage FromText(string text) => new(text, default);

    public static EngineIOMessage FromBinary(ReadOnlyMemory<byte> data) => new(null, data);
}

/// <summary>
/// One client of an Engine.IO endpoint mapped with <see cref="EngineIOExtensions.MapEngineIO"/>: Engine.IO's own
/// socket, the layer below socket.io, as Node's <c>engine.io</c> package offers it. It carries text and binary
/// messages both ways over HTTP long-polling or WebSocket (and the upgrade from one to the other), with the
/// heartbeat. Behind a balancer without sticky sessions, a gateway that gets a request for a session another gateway
/// holds forwards it there. Message handlers run one at a time, in the order the messages arrived.
/// </summary>
public sealed class EngineIOSocket : IEngineHandler
{
    private readonly EngineSession _session;
    private readonly ILogger _logger;
    private readonly List<Action<EngineIOMessage>> _messageHandlers = [];
    private readonly List<Action<string>> _closeHandlers = [];

    internal EngineIOSocket(EngineSession session, HttpContext context, ILogger logger)
    {
        _session = session;
        _logger = logger;
        var request = context.Request;
        Query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        Headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        RemoteAddress = context.Connection.RemoteIpAddress?.ToString() ?? "";
    }

    /// <summary>The session id (<c>sid</c>).</summary>
    public string Id => _session.Id;

    /// <summary>The transport in use now: <c>polling</c>, or <c>websocket</c> once upgraded.</summary>
    public string Transport => _session.Transport == EngineTransport.WebSocket ? "websocket" : "polling";

    /// <summary>The handshake request's query parameters.</summary>
    public IReadOnlyDictionary<string, string> Query { get; }

    /// <summary>The handshake request's headers.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>The client's address as the gateway saw it.</summary>
    public string RemoteAddress { get; }

    public bool IsClosed => _session.IsClosed;

    /// <summary>Handles each message the client sends.</summary>
    public EngineIOSocket OnMessage(Action<EngineIOMessage> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_messageHandlers)
        {
            _messageHandlers.Add(handler);
        }

        return this;
    }

    /// <summary>Runs once when the socket closes, with the reason (<c>transport close</c>, <c>ping timeout</c>...).</summary>
    public EngineIOSocket OnClose(Action<string> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_closeHandlers)
        {
            _closeHandlers.Add(handler);
        }

        return this;
    }

    /// <summary>Queues a message for the client, without waiting; false when the socket is closed.</summary>
    public bool Send(EngineIOMessage message) => message.IsBinary ? Send(message.Binary) : Send(message.Text!);

    public bool Send(string text) => _session.Send(new OutgoingPacket(Encoding.UTF8.GetBytes("4" + text), false));

    public bool Send(ReadOnlyMemory<byte> data) => _session.Send(new OutgoingPacket(data, true));

    /// <summary>Closes the session; the client is sent a close packet.</summary>
    public void Close() => _session.Close("forced close");

    Task IEngineHandler.ReadyForMoreAsync() => Task.CompletedTask; // its handlers run as the messages are read

    void IEngineHandler.OnMessage(EngineIOPacket packet) =>
        Handle(packet.IsBinary ? EngineIOMessage.FromBinary(packet.Binary!.Value) : EngineIOMessage.FromText(packet.Text));

    void IEngineHandler.OnMessage(ReadOnlySpan<byte> utf8) => Handle(EngineIOMessage.FromText(Encoding.UTF8.GetString(utf8)));

    private void Handle(EngineIOMessage message)
    {
        Action<EngineIOMessage>[] handlers;
        lock (_messageHandlers)
        {
            handlers = [.. _messageHandlers];
        }

        foreach (var handler in handlers)
        {
            try
            {
                handler(message);
            }
            catch (Exception ex) when (ex is not ProtocolException)
            {
                // The application's failure is logged; the socket and its client go on.
                EngineLog.HandlerFailed(_logger, Id, ex);
            }
        }
    }

    void IEngineHandler.OnClose(string reason)
    {
        Action<string>[] handlers;
        lock (_closeHandlers)
        {
            handlers = [.. _closeHandlers];
        }

        foreach (var handler in handlers)
        {
            handler(reason);
        }
    }
}
