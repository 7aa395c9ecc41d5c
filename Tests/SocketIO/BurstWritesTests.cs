using Realtime.Gateway.SocketIO.Engine;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// The stream under an Engine.IO WebSocket: a burst's frames reach the connection in one write when the burst ends,
/// frames outside a burst at once, and a burst the connection did not live to end is dropped without a synchronous
/// write (Kestrel refuses those). The connection is a stream that records its writes and refuses synchronous ones.
/// </summary>
public sealed class BurstWritesTests
{
    [Fact]
    public async Task ABurstLeavesInOneWrite_AFrameOutsideOneAtOnce_AndAnUnfinishedBurstIsDroppedOnDispose()
    {
        var connection = new AsyncOnlyStream();
        var stream = new BurstWrites(connection);

        stream.BeginBurst();
        await stream.WriteAsync(new byte[] { 1, 2 }).AsTask().Within("a frame of the burst");
        await stream.WriteAsync(new byte[] { 3 }).AsTask().Within("another frame of the burst");
        Assert.Empty(connection.Writes);
        await stream.EndBurstAsync().AsTask().Within("the burst to end");
        Assert.Equal([new byte[] { 1, 2, 3 }], connection.Writes);

        await stream.WriteAsync(new byte[] { 4 }).AsTask().Within("a frame outside a burst");
        Assert.Equal(new byte[] { 4 }, connection.Writes[^1]);

        stream.BeginBurst();
        await stream.WriteAsync(new byte[] { 5 }).AsTask().Within("a frame of a burst never ended");
        stream.Dispose();
        Assert.Equal(2, connection.Writes.Count);
    }

    private sealed class AsyncOnlyStream : MemoryStream
    {
        public List<byte[]> Writes { get; } = [];

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes.Add(buffer.ToArray());
            return ValueTask.CompletedTask;
        }

        public override void Write(ReadOnlySpan<byte> buffer) => throw new InvalidOperationException("Synchronous operations are disallowed.");

        public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("Synchronous operations are disallowed.");

        public override void Flush() => throw new InvalidOperationException("Synchronous operations are disallowed.");

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
