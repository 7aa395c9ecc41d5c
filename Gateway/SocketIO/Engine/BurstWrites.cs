using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Realtime.Gateway.SocketIO.Engine;

/// <summary>
/// The stream under an Engine.IO WebSocket, so that a burst of packets leaves in one write and one flush. Each Engine.IO
/// packet is a WebSocket message of its own, and ASP.NET Core's WebSocket writes each frame to the upgraded
/// connection's stream, which flushes every write: one <c>send</c> system call per packet (18 % of a gateway's CPU in
/// the socket.io room fan-out, saturated, went to <c>send</c>). Between <see cref="BeginBurst"/> and
/// <see cref="EndBurstAsync"/> this stream only gathers the frames, in a pooled buffer, and the end writes them to the
/// connection together. Outside a burst (pongs, the WebSocket's keep-alive pings, the close frame, a forwarded
/// session's frames) each write goes out at once, as before. An idle connection holds no buffer.
/// </summary>
/// <remarks>
/// ASP.NET Core offers no way to give its WebSocket a stream, other than through the upgrade feature it asks for one
/// (<see cref="Feature"/>), and the WebSocket protocol itself stays the framework's.
/// </remarks>
internal sealed class BurstWrites(Stream upgraded) : Stream
{
    /// <summary>
    /// How much a burst holds before the writer flushes it and begins the next: about half of what Kestrel lets a
    /// connection's output hold before it makes a flush wait for the client (64 KiB).
    /// </summary>
    public const int MaxBytes = 32 * 1024;

    // Rents a segment while a burst is written, and returns it once flushed: the upgraded stream gets one write per
    // burst, which Kestrel flushes.
    private readonly PipeWriter _output = PipeWriter.Create(upgraded, new StreamPipeWriterOptions(minimumBufferSize: MaxBytes, leaveOpen: true));

    // The WebSocket writes one frame at a time, but a pong (from its reads) may come while the write loop flushes.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _burst;

    /// <summary>From now until <see cref="EndBurstAsync"/>, frames are written without a flush.</summary>
    public void BeginBurst() => Volatile.Write(ref _burst, true);

    /// <summary>Flushes what the burst wrote, in one go.</summary>
    public async ValueTask EndBurstAsync()
    {
        await _gate.WaitAsync();
        try
        {
            Volatile.Write(ref _burst, false);
            await FlushOutputAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _output.Write(buffer.Span);
            if (!Volatile.Read(ref _burst))
            {
                await FlushOutputAsync(cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!Volatile.Read(ref _burst))
            {
                await FlushOutputAsync(cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => upgraded.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        upgraded.ReadAsync(buffer, offset, count, cancellationToken);

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read asynchronously.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Write asynchronously.");

    public override void Flush() => throw new NotSupportedException("Flush asynchronously.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // A burst the write loop did not end goes with the connection: completed with an error, the writer returns its
    // buffer unwritten (completed without one, it would write it synchronously, which Kestrel refuses).
    private static readonly IOException Unfinished = new("The WebSocket went away during a burst.");

    public override async ValueTask DisposeAsync()
    {
        await _output.CompleteAsync(Unfinished);
        await upgraded.DisposeAsync();
        _gate.Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _output.Complete(Unfinished);
            upgraded.Dispose();
            _gate.Dispose();
        }
    }

    private async ValueTask FlushOutputAsync(CancellationToken cancellationToken = default)
    {
        var flushed = await _output.FlushAsync(cancellationToken);
        if (flushed.IsCompleted || flushed.IsCanceled)
        {
            throw new IOException("The connection closed.");
        }
    }

    /// <summary>
    /// Puts <see cref="BurstWrites"/> under the WebSocket of every upgrade request that reaches <paramref name="pipeline"/>
    /// after it (ahead of <c>UseWebSockets</c>); <see cref="Of"/> finds it after the WebSocket is accepted.
    /// </summary>
    public static IApplicationBuilder Use(IApplicationBuilder pipeline) =>
        pipeline.Use((context, next) =>
        {
            if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
            {
                context.Features.Set<IHttpUpgradeFeature>(new Feature(upgrade));
            }

            return next(context);
        });

    /// <summary>The stream under the WebSocket accepted for <paramref name="context"/>; null when there is none.</summary>
    public static BurstWrites? Of(HttpContext context) => (context.Features.Get<IHttpUpgradeFeature>() as Feature)?.Stream;

    private sealed class Feature(IHttpUpgradeFeature inner) : IHttpUpgradeFeature
    {
        public BurstWrites? Stream { get; private set; }

        public bool IsUpgradableRequest => inner.IsUpgradableRequest;

        public async Task<Stream> UpgradeAsync() => Stream = new BurstWrites(await inner.UpgradeAsync());
    }
}
