using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;

namespace Realtime.Bench.Clients;

/// <summary>
/// One load-client connection over <see cref="ClientWebSocket"/>. The subclasses speak the protocols; this class owns
/// the socket, the receive loop, the send lock and the acknowledgements waited on. A bench message is the string
/// <c>B|sender|sequence|timestamp|padding</c>, whatever the protocol wraps it in, so that every system's deliveries are
/// read the same way.
/// </summary>
public abstract class LoadConnection : IAsyncDisposable
{
    private static readonly byte[] Marker = "\"B|"u8.ToArray();

    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<int, TaskCompletionSource<string>> _pending = new();
    private readonly CancellationTokenSource _closing = new();
    private Task _receiving = Task.CompletedTask;
    private Timer? _keepAlive;
    private int _nextAckId;

    protected LoadConnection(int index) => Index = index;

    /// <summary>The connection's number in its run: the sender number in the messages it sends.</summary>
    public int Index { get; }

    /// <summary>Where deliveries go; set before anything is sent to the connection.</summary>
    public IDeliverySink? Sink { get; set; }

    public bool IsOpen => Socket?.State == WebSocketState.Open;

    protected ClientWebSocket Socket { get; private set; } = null!;

    /// <summary>How often the protocol wants to hear from the client when it has nothing else to say.</summary>
    protected virtual TimeSpan KeepAliveInterval => Timeout.InfiniteTimeSpan;

    /// <summary>Opens the WebSocket, completes the protocol's handshake and starts reading.</summary>
    public async Task ConnectAsync(Uri server, HttpMessageInvoker invoker, CancellationToken cancellationToken)
    {
        Socket = new ClientWebSocket();
        Socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await Socket.ConnectAsync(EndpointOf(server), invoker, cancellationToken);
        await HandshakeAsync(cancellationToken);
        _receiving = Task.Run(ReceiveLoopAsync, CancellationToken.None);
        if (KeepAliveInterval != Timeout.InfiniteTimeSpan)
        {
            _keepAlive = new Timer(_ => _ = KeepAliveAsync(), null, KeepAliveInterval, KeepAliveInterval);
        }
    }

    /// <summary>Joins a room, waiting for the server to say it has.</summary>
    public abstract Task JoinAsync(string room, CancellationToken cancellationToken);

    /// <summary>One acknowledged round trip: once it is back, the server has finished connecting this client.</summary>
    public abstract Task RoundTripAsync(CancellationToken cancellationToken);

    /// <summary>Sends a bench message to every member of the room, this connection included if it is one.</summary>
    public abstract ValueTask SendToRoomAsync(string room, string message);

    /// <summary>The same, waiting for the server to say it went through; fails with the server's error.</summary>
    public abstract Task SendToRoomAcknowledgedAsync(string room, string message, CancellationToken cancellationToken);

    /// <summary>Leaves a room, waiting for the server to say it has.</summary>
    public abstract Task LeaveAsync(string room, CancellationToken cancellationToken);

    /// <summary>Drops the connection without a goodbye, as a lost network does.</summary>
    public void Abort() => Socket?.Abort();

    /// <summary>Sends a bench message to every connection of the namespace, this one included.</summary>
    public abstract ValueTask BroadcastAsync(string message);

    /// <summary>A bench message: what the receivers parse, padded to about <paramref name="size"/> characters.</summary>
    public static string Message(int sender, long sequence, long timestamp, int size)
    {
        var head = $"B|{sender}|{sequence}|{timestamp}|";
        return head.Length >= size ? head : head + new string('x', size - head.Length);
    }

    public async ValueTask DisposeAsync()
    {
        if (_keepAlive is not null)
        {
            await _keepAlive.DisposeAsync();
        }

        await _closing.CancelAsync();
        try
        {
            if (Socket?.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // closing anyway
        }

        Socket?.Abort();
        await _receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Socket?.Dispose();
        _sendLock.Dispose();
        _closing.Dispose();
        foreach (var pending in _pending.Values)
        {
            pending.TrySetCanceled();
        }
    }

    /// <summary>The WebSocket address of the protocol's endpoint on a server given by its HTTP base address.</summary>
    protected abstract Uri EndpointOf(Uri server);

    /// <summary>Completes the protocol's opening, reading with <see cref="ReceiveMessageAsync"/>.</summary>
    protected abstract Task HandshakeAsync(CancellationToken cancellationToken);

    /// <summary>Handles one WebSocket message other than a bench delivery.</summary>
    protected abstract ValueTask OnMessageAsync(ReadOnlyMemory<byte> message);

    protected virtual ValueTask KeepAliveAsync() => ValueTask.CompletedTask;

    /// <summary>Sends one text message; sends never overlap.</summary>
    protected async ValueTask SendAsync(ReadOnlyMemory<byte> message)
    {
        await _sendLock.WaitAsync(_closing.Token);
        try
        {
            await Socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, _closing.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    protected ValueTask SendAsync(string message) => SendAsync(Encoding.UTF8.GetBytes(message));

    /// <summary>Reads one whole message during the handshake.</summary>
    protected async Task<string> ReceiveMessageAsync(CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        while (true)
        {
            var result = await Socket.ReceiveAsync(buffer.GetMemory(512), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketException($"The server closed the connection during the handshake: {Socket.CloseStatus} {Socket.CloseStatusDescription}");
            }

            buffer.Advance(result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(buffer.WrittenSpan);
            }
        }
    }

    /// <summary>A new acknowledgement id and the task its answer completes.</summary>
    protected (int Id, Task<string> Answer) NewAck()
    {
        var id = Interlocked.Increment(ref _nextAckId);
        var answer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        return (id, answer.Task);
    }

    protected void Acknowledge(int id, string answer, string? error = null)
    {
        if (_pending.TryRemove(id, out var pending))
        {
            if (error is null)
            {
                pending.TrySetResult(answer);
            }
            else
            {
                pending.TrySetException(new InvalidOperationException(error));
            }
        }
    }

    /// <summary>Finds a bench message in <paramref name="record"/> and hands it to the sink; false when there is none.</summary>
    protected bool TryDeliver(ReadOnlySpan<byte> record)
    {
        var at = record.IndexOf(Marker);
        if (at < 0)
        {
            return false;
        }

        var rest = record[(at + Marker.Length)..];
        if (!Number(ref rest, out var sender) || !Number(ref rest, out var sequence) || !Number(ref rest, out var timestamp))
        {
            throw new FormatException("A bench message that cannot be read: " + Encoding.UTF8.GetString(record));
        }

        Sink?.Deliver(this, (int)sender, sequence, timestamp);
        return true;
    }

    private static bool Number(ref ReadOnlySpan<byte> text, out long value)
    {
        if (!Utf8Parser.TryParse(text, out value, out var length) || length >= text.Length || text[length] != (byte)'|')
        {
            return false;
        }

        text = text[(length + 1)..];
        return true;
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[4096];
        var filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var result = await Socket.ReceiveAsync(buffer.AsMemory(filled), _closing.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                filled += result.Count;
                if (result.EndOfMessage)
                {
                    await OnMessageAsync(buffer.AsMemory(0, filled));
                    filled = 0;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // closed
        }
        finally
        {
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new WebSocketException("The connection closed."));
            }
        }
    }
}

/// <summary>Receives every bench message any connection reads.</summary>
public interface IDeliverySink
{
    void Deliver(LoadConnection receiver, int sender, long sequence, long timestamp);
}
