using System.Collections.Concurrent;

namespace Realtime.Gateway.Core;

/// <summary>A connection whose waiting messages the <see cref="WriteScheduler"/> writes.</summary>
internal interface IPendingWrites
{
    /// <summary>Writes what waits, or starts to: called by one thread at a time, once per <see cref="WriteScheduler.Schedule"/>.</summary>
    void WritePending();
}

/// <summary>
/// Runs the writes of the connections that have messages waiting, of either protocol: a few thread-pool items shared
/// by every connection (one per core, a connection always on the same one), each writing everything its connections
/// have waiting before it ends. Preferring the current thread's queue, an item runs once the current work (an observer's
/// run of deliveries) is done, so that what that run delivered to a connection leaves in one write. A delivery to
/// ten members thus costs one item, not ten.
/// </summary>
internal static class WriteScheduler
{
    private static readonly Shard[] Shards = [.. Enumerable.Range(0, Environment.ProcessorCount).Select(_ => new Shard())];

    /// <summary>Has <paramref name="connection"/>'s waiting messages written soon.</summary>
    public static void Schedule(IPendingWrites connection) => Shards[(connection.GetHashCode() & int.MaxValue) % Shards.Length].Add(connection);

    private sealed class Shard : IThreadPoolWorkItem
    {
        private readonly ConcurrentQueue<IPendingWrites> _ready = new();
        private int _scheduled;

        public void Add(IPendingWrites connection)
        {
            _ready.Enqueue(connection);
            if (Interlocked.Exchange(ref _scheduled, 1) == 0)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
            }
        }

        public void Execute()
        {
            while (true)
            {
                while (_ready.TryDequeue(out var connection))
                {
                    connection.WritePending();
                }

                Volatile.Write(ref _scheduled, 0);

                // A connection added after the queue looked empty, but before the flag was down, is ours to write.
                if (_ready.IsEmpty || Interlocked.Exchange(ref _scheduled, 1) != 0)
                {
                    return;
                }
            }
        }
    }
}
