using System.Buffers.Text;
using Realtime.Gateway.Observability;
using Realtime.Gateway.SocketIO.Protocol;

namespace Realtime.Gateway.SocketIO.Engine;

/// <summary>HTTP long-polling: a GET waits for packets, a POST carries the client's.</summary>
internal sealed partial class EngineSession
{
    /// <summary>
    /// Answers a polling GET with every packet waiting, or waits until there is one. A GET while another one waits
    /// fails (400) and closes the session; one after the session moved to WebSocket fails (400) and is ignored.
    /// </summary>
    public async Task PollAsync(HttpContext context)
    {
        Task waiter;
        lock (_lock)
        {
            if (Transport != EngineTransport.Polling && !_closed)
            {
                waiter = Task.FromException(new InvalidOperationException("a polling request after the upgrade"));
            }
            else if (_polling)
            {
                waiter = Task.FromException(new ProtocolException("overlapping polling requests"));
            }
            else
            {
                _polling = true;

                // A GET that reached a session the client closed meanwhile (its POST won the race) is answered at once,
                // as one waiting then would be, instead of waiting for packets that will never come.
                if (_buffer.Count == 0 && !_closed)
                {
                    _pollWaiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    waiter = _pollWaiter.Task;
                }
                else
                {
                    waiter = Task.CompletedTask;
                }
            }
        }

        if (waiter.IsFaulted)
        {
            await EngineHttp.WriteErrorAsync(context, EngineError.BadRequest);
            if (waiter.Exception?.InnerException is ProtocolException)
            {
                Close("transport error");
            }

            return;
        }

        try
        {
            await waiter.WaitAsync(context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                _polling = false;
                _pollWaiter = null;
            }

            return;
        }

        OutgoingPacket[] packets;
        bool closed;
        lock (_lock)
        {
            packets = [.. _buffer];
            _buffer.Clear();
            _polling = false;
            _pollWaiter = null;
            closed = _closed;
            foreach (var packet in packets)
            {
                Interlocked.Add(ref _bufferedBytes, -packet.Data.Length);
            }
        }

        if (packets.Length == 0)
        {
            // The session moved to WebSocket while this GET waited, or the client closed it: release it.
            packets = [OutgoingPacket.Noop];
        }

        context.Response.ContentType = "text/plain; charset=UTF-8";
        var body = EncodePayload(packets);
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
        if (closed)
        {
            Close("transport close");
        }
    }

    /// <summary>Reads a polling POST's packets (up to <see cref="EngineIOOptions.MaxPayload"/> bytes) and handles them.</summary>
    public async Task PostAsync(HttpContext context)
    {
        bool overlapping, misplaced;
        lock (_lock)
        {
            // One POST at a time (another one breaks the protocol), and none once the session moved to WebSocket
            // (ignored, as a GET then is).
            misplaced = Transport != EngineTransport.Polling;
            overlapping = !misplaced && _posting;
            _posting |= !misplaced;
        }

        if (misplaced || overlapping)
        {
            await EngineHttp.WriteErrorAsync(context, EngineError.BadRequest);
            if (overlapping)
            {
                Close("transport error");
            }

            return;
        }

        try
        {
            var body = await EngineHttp.ReadBodyAsync(context, _options.MaxPayload);
            if (body is null)
            {
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                Metrics?.Rejected(RejectionReason.MessageTooLarge);
                Close("transport error");
                return;
            }

            try
            {
                foreach (var packet in EngineIOCodec.DecodePayload(body))
                {
                    Receive(packet);
                }
            }
            catch (ProtocolException ex)
            {
                EngineLog.BadPacket(_logger, Id, ex.Message);
                Metrics?.Rejected(RejectionReason.MalformedFrame);
                await EngineHttp.WriteErrorAsync(context, EngineError.BadRequest);
                Close("parse error");
                return;
            }

            if (Handler?.ReadyForMoreAsync() is { IsCompleted: false } busy)
            {
                // The handlers are behind: the client sends its next POST once this one is answered.
                await busy.WaitAsync(context.RequestAborted);
            }

            context.Response.ContentType = "text/html; charset=UTF-8";
            await context.Response.WriteAsync("ok", context.RequestAborted);
        }
        finally
        {
            lock (_lock)
            {
                _posting = false;
            }
        }
    }

    /// <summary>Joins packets with the record separator; binary ones as <c>b</c> and base64.</summary>
    private static byte[] EncodePayload(OutgoingPacket[] packets)
    {
        var size = packets.Length - 1;
        foreach (var packet in packets)
        {
            size += packet.IsBinary ? 1 + Base64.GetMaxEncodedToUtf8Length(packet.Data.Length) : packet.Data.Length;
        }

        var body = new byte[size];
        var offset = 0;
        for (var i = 0; i < packets.Length; i++)
        {
            if (i > 0)
            {
                body[offset++] = (byte)EngineIOCodec.RecordSeparator;
            }

            var packet = packets[i];
            if (packet.IsBinary)
            {
                body[offset++] = (byte)'b';
                Base64.EncodeToUtf8(packet.Data.Span, body.AsSpan(offset), out _, out var written);
                offset += written;
            }
            else
            {
                packet.Data.Span.CopyTo(body.AsSpan(offset));
                offset += packet.Data.Length;
            }
        }

        return body;
    }
}
