using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Connections.Abstractions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.SignalR;

/// <summary>
/// A SignalR connection of this gateway. Messages written to it wait until the <see cref="WriteScheduler"/> writes
/// everything waiting at once, with one flush: under load, a member of a busy room gets many messages in one
/// WebSocket frame and one send instead of one each; idle, a message waits only for a thread-pool item to run.
/// </summary>
internal sealed class SignalRConnection(
    HubConnectionContext context,
    string @namespace,
    Member member,
    string? rejection,
    SignalRConnection.IClientResults clientResults,
    GatewayMetrics metrics,
    long maxBufferedBytes,
    IHubProtocol jsonProtocol,
    ILogger logger)
    : LocalConnection(context.ConnectionId, @namespace, member, rejection), IPendingWrites
{
    /// <summary>The client method a member of a closed room is called with (argument: the room name).</summary>
    public const string RoomClosedMethod = "roomClosed";

    /// <summary>The client method that names messages of a room or the namespace that the connection will never get: <c>missed(room, epoch, from, to)</c>.</summary>
    public const string MissedMethod = "missed";

    /// <summary>How the lifetime manager carries out SignalR client results.</summary>
    public interface IClientResults
    {
        Task<T> InvokeLocalAsync<T>(SignalRConnection connection, string methodName, object?[] args, CancellationToken cancellationToken);
    }

    /// <summary>The most bytes put in one write; more are written in several, a large message alone.</summary>
    internal const int MaxWriteBytes = 32 * 1024;

    // Messages waiting for the write scheduler, under _lock. While the connection is scheduled or being written
    // (_writing), nobody else writes, so messages leave in the order they were written. The writer takes the waiting
    // list and leaves the spare one in its place (no array per write). A connection with stateful reconnect numbers
    // every write for its acknowledgements, so it writes one message at a time, at once.
    private readonly Lock _lock = new();
    private List<SerializedHubMessage> _pending = [];
    private List<SerializedHubMessage> _spare = [];

    // The bytes of the messages being written, in this protocol; used by the writer alone, and cleared after each write.
    private ReadOnlyMemory<byte>[] _serialized = new ReadOnlyMemory<byte>[8];
    private long _buffered;
    private int _tooSlow;
    private List<TaskCompletionSource>? _whenWritten;
    private bool _writing;
#pragma warning disable CA2252 // a preview interface; only its presence is read
    private readonly bool _combinesWrites = context.Features.Get<IStatefulReconnectFeature>() is null;
#pragma warning restore CA2252

    public HubConnectionContext Context { get; } = context;

    /// <summary>The close a draining gateway sends: the client should reconnect, to another gateway.</summary>
    internal static CloseMessage ShutdownClose { get; } = new("The gateway is shutting down; reconnect.", allowReconnect: true);

    /// <summary>Tells a connection that arrived while the gateway drains to reconnect elsewhere, and closes it.</summary>
    internal static async Task RefuseForShutdownAsync(HubConnectionContext connection)
    {
        try
        {
            await connection.WriteAsync(ShutdownClose);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            // It went away by itself.
        }

        connection.Abort();
    }

    public override string Protocol => Context.Protocol.Name;

    public override string Transport { get; } = context.Features.Get<Microsoft.AspNetCore.Http.Connections.Features.IHttpTransportFeature>()?.TransportType switch
    {
        Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets => "websockets",
        Microsoft.AspNetCore.Http.Connections.HttpTransportType.ServerSentEvents => "server_sent_events",
        Microsoft.AspNetCore.Http.Connections.HttpTransportType.LongPolling => "long_polling",
        _ => "other",
    };

    public override void Write(OutgoingMessage message) => Write(HubMessageForms.Of(message, Context.Protocol, jsonProtocol));

    public override void Abort() => Context.Abort();

    public override Task CloseForShutdownAsync() =>
        Context.WriteAsync(ShutdownClose).AsTask();

    public override Task<JsonElement> InvokeAsync(string method, JsonElement[] args, CancellationToken cancellationToken) =>
        clientResults.InvokeLocalAsync<JsonElement>(this, method, [.. args.Cast<object?>()], cancellationToken);

    public override void RoomClosed(string roomName) =>
        Write(new SerializedHubMessage(new InvocationMessage(RoomClosedMethod, [roomName])));

    public override void Missed(string? room, string? epoch, long? from, long to) =>
        Write(new SerializedHubMessage(new InvocationMessage(MissedMethod, [room, epoch, from, to])));

    /// <summary>Writes what is waiting, until nothing is: back to back, in as few writes and flushes as fit.</summary>
    public void WritePending()
    {
        while (true)
        {
            List<SerializedHubMessage>? messages = null;
            List<TaskCompletionSource>? written = null;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    // Decided here: once _writing is down, a message written next schedules another writer.
                    _writing = false;
                    (written, _whenWritten) = (_whenWritten, null);
                }
                else
                {
                    messages = _pending;
                    (_pending, _spare) = (_spare, messages);
                }
            }

            if (messages is null)
            {
                written?.ForEach(static w => w.TrySetResult());
                return;
            }

            WriteAll(messages);
            messages.Clear();
        }
    }

    public override Task WhenWrittenAsync()
    {
        lock (_lock)
        {
            if (!_writing)
            {
                return Task.CompletedTask;
            }

            var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (_whenWritten ??= []).Add(written);
            return written.Task;
        }
    }

    private void WriteAll(List<SerializedHubMessage> messages)
    {
        var protocol = Context.Protocol;
        if (_serialized.Length < messages.Count)
        {
            _serialized = new ReadOnlyMemory<byte>[Math.Max(messages.Count, _serialized.Length * 2)];
        }

        var start = 0;
        var bytes = 0;
        var total = 0L;
        for (var i = 0; i < messages.Count; i++)
        {
            // Asked once per message: a message's forms are shared by the members written on other threads, under its lock.
            var size = (_serialized[i] = messages[i].GetSerializedMessage(protocol)).Length;
            if (i > start && bytes + size > MaxWriteBytes)
            {
                WriteTogether(messages, start, i, bytes);
                start = i;
                bytes = 0;
            }

            bytes += size;
            total += size;
        }

        WriteTogether(messages, start, messages.Count, bytes);
        Array.Clear(_serialized, 0, messages.Count); // holds no message's bytes after its write
        metrics.Sent(protocol.Name, messages.Count, total);
    }

    private void Write(SerializedHubMessage message)
    {
        if (!_combinesWrites)
        {
            var size = message.GetSerializedMessage(Context.Protocol).Length;
            metrics.Sent(Context.Protocol.Name, 1, size);
            WriteNow(message, size, null);
            return;
        }

        lock (_lock)
        {
            _pending.Add(message);
            if (_writing)
            {
                return;
            }

            _writing = true;
        }

        WriteScheduler.Schedule(this);
    }

    /// <summary>
    /// Writes messages <paramref name="start"/> to <paramref name="end"/> (exclusive), <paramref name="length"/> bytes,
    /// back to back in one write: the protocol's framing keeps them apart for the client. Several are copied into a
    /// pooled buffer, given back once SignalR has taken the bytes (its write completed).
    /// </summary>
    private void WriteTogether(List<SerializedHubMessage> messages, int start, int end, int length)
    {
        if (end - start == 1)
        {
            WriteNow(messages[start], length, null);
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(length);
        var offset = 0;
        for (var i = start; i < end; i++)
        {
            _serialized[i].Span.CopyTo(buffer.AsSpan(offset));
            offset += _serialized[i].Length;
        }

        WriteNow(new SerializedHubMessage([new SerializedMessage(Context.Protocol.Name, buffer.AsMemory(0, length))]), length, buffer);
    }

    /// <summary>
    /// Hands a message to SignalR, which writes one message at a time. While the client does not read, the writes
    /// wait, and their bytes count against <see cref="GatewayOptions.MaxBufferedBytes"/>; past it, the
    /// connection is closed: a client that stopped reading holds neither the gateway's memory nor anyone else.
    /// <paramref name="pooled"/>, the buffer the message's bytes are in if rented, is given back when the write is done.
    /// </summary>
    private void WriteNow(SerializedHubMessage message, int size, byte[]? pooled)
    {
        if (Volatile.Read(ref _tooSlow) == 1)
        {
            Return(pooled);
            return;
        }

        if (Interlocked.Add(ref _buffered, size) > maxBufferedBytes)
        {
            Return(pooled);
            TooSlow();
            return;
        }

        // SignalR copies the bytes into the connection's pipe before the write completes (at once, or once the write
        // before it is done); until then they must stay as they are.
        var write = Context.WriteAsync(message);
        if (write.IsCompletedSuccessfully)
        {
            Interlocked.Add(ref _buffered, -size);
            Return(pooled);
        }
        else
        {
            _ = ObserveAsync(write, size, pooled);
        }
    }

    private static void Return(byte[]? pooled)
    {
        if (pooled is not null)
        {
            ArrayPool<byte>.Shared.Return(pooled);
        }
    }

    private async Task ObserveAsync(ValueTask write, int size, byte[]? pooled)
    {
        try
        {
            await write;
        }
        catch (Exception ex) when (Volatile.Read(ref _tooSlow) == 0)
        {
            GatewayLog.WriteFailed(logger, ConnectionId, ex);
        }
        catch (Exception)
        {
            // The connection was closed for reading too slowly; what waited is dropped with it.
        }
        finally
        {
            Interlocked.Add(ref _buffered, -size);
            Return(pooled);
        }
    }

    private void TooSlow()
    {
        if (Interlocked.Exchange(ref _tooSlow, 1) == 1)
        {
            return;
        }

        metrics.Rejected(RejectionReason.SlowConsumer);
        GatewayLog.SlowConsumer(logger, ConnectionId, maxBufferedBytes);
        Context.Abort();
    }

    /// <summary>Tells the client why, in a close message, and lets it close the connection (aborted after a second if it does not).</summary>
    public override void Close(string reason) => _ = WriteThenCloseAsync(new CloseMessage(reason, allowReconnect: false));

    /// <summary>
    /// Calls the client's <c>disconnecting</c> with <paramref name="reason"/> after everything written to it before,
    /// then closes the connection behind it: the client is sent a close message after the call, so that it reads the
    /// reason first, and closes (without reconnecting: it asked to be disconnected).
    /// </summary>
    public async Task DisconnectAsync(string reason)
    {
        try
        {
            await WhenWrittenAsync().WaitAsync(TimeSpan.FromSeconds(1));
        }
        catch (TimeoutException)
        {
            // It does not read; the message goes after what it does not read, and the close follows all the same.
        }

        await WriteThenCloseAsync(new InvocationMessage(RealtimeHub.DisconnectingMethod, [reason]), new CloseMessage(error: null, allowReconnect: false));
    }

    /// <summary>
    /// Writes <paramref name="messages"/>, the last a close message, and lets the client close the connection when it
    /// reads it; aborts it after a second if the client has not. An abort right after a write can overtake it: SignalR
    /// drops what its transport has not sent yet (CI lost the reason so, once in 20 and again at a first attempt).
    /// </summary>
    private async Task WriteThenCloseAsync(params HubMessage[] messages)
    {
        try
        {
            var wait = TimeSpan.FromSeconds(1);
            foreach (var message in messages)
            {
                await Context.WriteAsync(message).AsTask().WaitAsync(wait);
            }

            await Task.Delay(Timeout.InfiniteTimeSpan, Context.ConnectionAborted).WaitAsync(wait);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or IOException or InvalidOperationException)
        {
            // Closed by the client, as asked; or it does not read: close it anyway.
        }

        Context.Abort();
    }
}
