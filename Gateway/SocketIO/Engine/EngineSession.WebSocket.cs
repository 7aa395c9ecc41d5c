using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Realtime.Gateway.Observability;
using Realtime.Gateway.SocketIO.Protocol;

namespace Realtime.Gateway.SocketIO.Engine;

/// <summary>The WebSocket transport, from the start or after an upgrade from polling.</summary>
internal sealed partial class EngineSession
{
    /// <summary>
    /// Runs a WebSocket session opened on WebSocket: sends the open packet, then carries packets both ways until
    /// either side closes. With <paramref name="bursts"/> (the stream under the socket), each burst of packets is
    /// flushed once.
    /// </summary>
    public async Task RunWebSocketAsync(WebSocket socket, BurstWrites? bursts = null)
    {
        Send(OutgoingPacket.Text(OpenPacket(upgradable: false)));
        StartHeartbeat();
        await CarryAsync(socket, bursts);
    }

    /// <summary>
    /// Upgrades a polling session to <paramref name="socket"/>: answers the client's <c>2probe</c> with
    /// <c>3probe</c>, releases the waiting GET with a noop, and switches on the client's <c>5</c>. A probe that does
    /// not finish within <see cref="EngineIOOptions.UpgradeTimeout"/> drops the WebSocket; the session goes on
    /// polling.
    /// </summary>
    public async Task UpgradeAsync(WebSocket socket, BurstWrites? bursts = null)
    {
        bool refused;
        lock (_lock)
        {
            refused = _upgrading || Transport != EngineTransport.Polling || _closed;
            _upgrading |= !refused;
        }

        if (refused)
        {
            // Upgraded already, or upgrading: this WebSocket is not the session's.
            await TryCloseAsync(socket, WebSocketCloseStatus.PolicyViolation, "the session is not upgrading");
            await AwaitPeerCloseAsync(socket);
            return;
        }

        var switched = false;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
            deadline.CancelAfter(_options.UpgradeTimeout);
            var probe = await ReceiveTextAsync(socket, deadline.Token);
            if (probe != "2probe")
            {
                return;
            }

            await socket.SendAsync("3probe"u8.ToArray(), WebSocketMessageType.Text, true, deadline.Token);
            Send(OutgoingPacket.Noop);
            if (await ReceiveTextAsync(socket, deadline.Token) != "5")
            {
                return;
            }

            lock (_lock)
            {
                if (_closed)
                {
                    return;
                }

                var writer = NewWriter();
                foreach (var packet in _buffer)
                {
                    writer.Enqueue(packet);
                }

                _buffer.Clear();
                _webSocketWriter = writer;
                Transport = EngineTransport.WebSocket;
                _pollWaiter?.TrySetResult();
                switched = true;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ProtocolException)
        {
            EngineLog.UpgradeFailed(_logger, Id, ex.Message);
        }
        finally
        {
            lock (_lock)
            {
                _upgrading = false;
            }
        }

        if (switched)
        {
            EngineLog.Upgraded(_logger, Id);
            await CarryAsync(socket, bursts);
        }
        else if (socket.State == WebSocketState.Open)
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, "upgrade failed", CancellationToken.None);
        }
    }

    private async Task CarryAsync(WebSocket socket, BurstWrites? bursts)
    {
        var writer = _webSocketWriter!;
        writer.Start(socket, bursts);
        string reason = "transport close";
        try
        {
            await ReadUntilClosedAsync(socket, writer.Done);
        }
        catch (MessageTooLargeException)
        {
            Metrics?.Rejected(RejectionReason.MessageTooLarge);
            reason = "transport error";
            await TryCloseAsync(socket, WebSocketCloseStatus.MessageTooBig, $"messages are limited to {_options.MaxPayload} bytes");
        }
        catch (ProtocolException ex)
        {
            EngineLog.BadPacket(_logger, Id, ex.Message);
            Metrics?.Rejected(RejectionReason.MalformedFrame);
            reason = "parse error";
            await TryCloseAsync(socket, WebSocketCloseStatus.InvalidPayloadData, "invalid packet");
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            reason = "transport error";
        }

        Close(reason);
        await writer.Done;
        await AwaitPeerCloseAsync(socket);
        socket.Abort();
    }

    /// <summary>
    /// After our close frame, waits briefly for the client's: aborting at once could reset the TCP connection and
    /// throw away the close frame (and its reason) before the client read it.
    /// </summary>
    private static async Task AwaitPeerCloseAsync(WebSocket socket)
    {
        if (socket.State != WebSocketState.CloseSent)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var buffer = new byte[256];
            while (socket.State == WebSocketState.CloseSent)
            {
                await socket.ReceiveAsync(buffer, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // It did not answer; abort anyway.
        }
    }

    /// <summary>How long a client has to answer the close frame of a session the server closed.</summary>
    private static readonly TimeSpan CloseAnswerTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Reads the client's packets until it closes the WebSocket. When the server closes the session instead, the
    /// writer ends the WebSocket with a close frame, and the client's answer ends the reading; a client that does not
    /// answer in time is cut off. (Cancelling a pending receive would abort the WebSocket before the close frame left,
    /// and the client would see a reset, not a close.)
    /// </summary>
    private async Task ReadUntilClosedAsync(WebSocket socket, Task writer)
    {
        var reading = ReadLoopAsync(socket);
        var closed = Task.Delay(Timeout.Infinite, _closing.Token).ContinueWith(static _ => { }, TaskScheduler.Default);
        if (await Task.WhenAny(reading, closed) != reading)
        {
            await writer;
            if (await Task.WhenAny(reading, Task.Delay(CloseAnswerTimeout, Time)) != reading)
            {
                socket.Abort();
            }
        }

        await reading;
    }

    private async Task ReadLoopAsync(WebSocket socket)
    {
        while (true)
        {
            if (Handler?.ReadyForMoreAsync() is { IsCompleted: false } busy)
            {
                await busy; // the handlers are behind: the client's next messages wait in its connection
            }

            // Read in the receive buffer: a text message is handed to the handler as its UTF-8, another packet decoded.
            var (packet, type) = await ReceiveAsync(socket, _readFrame ??= ReadFrame, CancellationToken.None);
            if (type == WebSocketMessageType.Close)
            {
                return;
            }

            if (packet is not { } received)
            {
                // A text message, handled in the buffer; or sent before the client saw the close frame, when the
                // session is gone.
                continue;
            }

            Receive(received);
        }
    }

    /// <summary>
    /// A frame's packet; null once the session is closed (a frame sent before the client saw the close), and for a
    /// text message, which the handler is given here as its UTF-8, while it is in the receive buffer.
    /// </summary>
    private EngineIOPacket? ReadFrame(ReadOnlyMemory<byte> bytes, WebSocketMessageType type)
    {
        if (IsClosed)
        {
            return null;
        }

        if (type == WebSocketMessageType.Binary)
        {
            return EngineIOPacket.BinaryMessage(bytes.ToArray());
        }

        var utf8 = bytes.Span;
        if (utf8 is [(byte)'0' + (byte)EngineIOPacketType.Message, ..])
        {
            Handler?.OnMessage(utf8[1..]);
            return null;
        }

        return EngineIOCodec.Decode(utf8);
    }

    internal static async Task TryCloseAsync(WebSocket socket, WebSocketCloseStatus status, string description)
    {
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(status, description, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                // Already gone.
            }
        }
    }

    private async Task<string?> ReceiveTextAsync(WebSocket socket, CancellationToken cancellationToken) =>
        (await ReceiveAsync(socket, static (bytes, type) => type == WebSocketMessageType.Text ? Encoding.UTF8.GetString(bytes.Span) : null, cancellationToken)).Value;

    /// <summary>
    /// Reads one whole message, refusing one above <see cref="EngineIOOptions.MaxPayload"/>, and decodes it with
    /// <paramref name="decode"/> while it is in the pooled buffer (which it must not keep); a close gives the default.
    /// </summary>
    private async Task<(T? Value, WebSocketMessageType Type)> ReceiveAsync<T>(
        WebSocket socket, Func<ReadOnlyMemory<byte>, WebSocketMessageType, T> decode, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= _options.MaxPayload)
                    {
                        throw new MessageTooLargeException();
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxPayload + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return (default, WebSocketMessageType.Close);
                }

                length += result.Count;
                if (length > _options.MaxPayload)
                {
                    throw new MessageTooLargeException();
                }

                if (result.EndOfMessage)
                {
                    return (decode(buffer.AsMemory(0, length), result.MessageType), result.MessageType);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private sealed class MessageTooLargeException : Exception;
}
