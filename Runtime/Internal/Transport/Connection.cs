using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Realtime.Runtime.Internal.Transport;

/// <summary>
/// One node-to-node connection: a bounded queue of encoded frames drained by a writer loop, and a reader loop that
/// hands each complete frame to its owner. Either loop ending closes the connection.
/// </summary>
internal sealed class Connection
{
    private readonly IDuplexPipe _pipe;
    private readonly Channel<byte[]> _outbound;
    private readonly CancellationTokenSource _closing = new();
    private readonly int _maxFrameBytes;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _identified = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Connection(IDuplexPipe pipe, bool isOutbound, int sendQueueCapacity, int maxFrameBytes, IDisposable? owned = null)
    {
        _pipe = pipe;
        IsOutbound = isOutbound;
        _maxFrameBytes = maxFrameBytes;
        Owned = owned;
        _outbound = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(sendQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of dropping silently
        });
    }

    public bool IsOutbound { get; }

    /// <summary>The peer's node name, once its hello has arrived (or, outbound, the node we dialled).</summary>
    public string? RemoteNode { get; set; }

    public NodeRole RemoteRole { get; set; }

    public Task Closed => _closed.Task;

    /// <summary>Completes with the peer's node name when its hello arrives.</summary>
    public Task<string> Identified => _identified.Task;

    public void MarkIdentified(string node) => _identified.TrySetResult(node);

    /// <summary>Why the connection was closed on purpose (bad input from the peer), if it was.</summary>
    public string? CloseReason { get; set; }

    private IDisposable? Owned { get; }

    /// <summary>Connects to a listening node over TCP.</summary>
    public static async Task<Connection> ConnectAsync(string host, int port, int sendQueueCapacity, int maxFrameBytes, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var stream = new NetworkStream(socket, ownsSocket: true);
        var pipe = new StreamDuplexPipe(PipeReader.Create(stream), PipeWriter.Create(stream));
        return new Connection(pipe, isOutbound: true, sendQueueCapacity, maxFrameBytes, stream);
    }

    /// <summary>Queues a frame; false when the queue is full or the connection is closing.</summary>
    public bool TrySend(byte[] frame) => _outbound.Writer.TryWrite(frame);

    public bool IsClosing => _closing.IsCancellationRequested;

    /// <summary>Runs both loops until the connection ends; <paramref name="onFrame"/> gets each frame body in order.</summary>
    public async Task RunAsync(Action<Connection, byte[]> onFrame)
    {
        var writing = WriteLoopAsync();
        var reading = ReadLoopAsync(onFrame);
        await Task.WhenAny(writing, reading);
        Close();
        await Task.WhenAll(writing, reading);
        await _pipe.Input.CompleteAsync();
        await _pipe.Output.CompleteAsync();
        Owned?.Dispose();
        _closed.TrySetResult();
    }

    public void Close()
    {
        _outbound.Writer.TryComplete();
        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // already closed
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outbound.Reader;
        var output = _pipe.Output;
        try
        {
            while (await reader.WaitToReadAsync(_closing.Token))
            {
                // Write everything queued, then flush once: one system call for a burst of frames.
                while (reader.TryRead(out var frame))
                {
                    output.Write<byte>(frame);
                    if (output.UnflushedBytes > 256 * 1024)
                    {
                        await output.FlushAsync(_closing.Token);
                    }
                }

                var result = await output.FlushAsync(_closing.Token);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is going away; RunAsync reports it.
        }
    }

    private async Task ReadLoopAsync(Action<Connection, byte[]> onFrame)
    {
        var input = _pipe.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_closing.Token);
                var buffer = result.Buffer;
                // The frames of one read are one burst: observers that defer work (a gateway's socket flushes) do it
                // once for all of them.
                Observers.DeliveryBurst.Begin();
                try
                {
                    while (MessageCodec.TryReadFrame(ref buffer, _maxFrameBytes, out var body))
                    {
                        onFrame(this, body);
                    }
                }
                finally
                {
                    Observers.DeliveryBurst.End();
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is going away; RunAsync reports it.
        }
        catch (Serialization.WireFormatException ex)
        {
            CloseReason = ex.Message;
        }
    }

    private sealed class StreamDuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
