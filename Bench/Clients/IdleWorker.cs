using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Realtime.Bench.Clients;

/// <summary>
/// A load-client process of its own (<c>Realtime.Bench idle-worker</c>) that holds many idle connections: one process
/// may have at most as many sockets as its open-file limit, so the scale scenario spreads its connections over
/// several. Driven by JSON lines on standard input, it answers on standard output:
/// <c>connect</c> opens connections (answer: how many, how long), <c>report</c> waits until every open connection
/// got the bench message of a sequence number and answers with each one's latency, <c>close</c> ends it.
/// </summary>
public static class IdleWorker
{
    /// <summary>The most connections one process holds, below its open-file limit.</summary>
    public static int ConnectionsPerProcess()
    {
        var limit = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal))?
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
        return int.TryParse(limit, out var files) ? Math.Max(100, (int)(files * 0.9) - 500) : 18_000;
    }

    public static async Task<int> RunAsync(TextReader input, TextWriter output)
    {
        var sink = new Sink();
        var connections = new ConcurrentBag<LoadConnection>();
        ConnectionFactory? factory = null;
        while (await input.ReadLineAsync() is { } line)
        {
            using var command = JsonDocument.Parse(line);
            var root = command.RootElement;
            switch (root.GetProperty("op").GetString())
            {
                case "connect":
                    factory ??= new ConnectionFactory(root.GetProperty("sources").GetInt32());
                    await output.WriteLineAsync(JsonSerializer.Serialize(await ConnectAsync(root, factory, connections, sink)));
                    break;
                case "report":
                    var sequence = root.GetProperty("sequence").GetInt64();
                    var deadline = Stopwatch.StartNew();
                    var timeout = TimeSpan.FromSeconds(root.GetProperty("timeoutSeconds").GetDouble());
                    var expected = connections.Count(c => c.IsOpen);
                    while (sink.Count(sequence) < expected && deadline.Elapsed < timeout)
                    {
                        await Task.Delay(20);
                    }

                    await output.WriteLineAsync(JsonSerializer.Serialize(new { open = expected, micros = sink.Latencies(sequence) }));
                    break;
                case "close":
                    await Parallel.ForEachAsync(connections, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) => await c.DisposeAsync());
                    factory?.Dispose();
                    return 0;
            }

            await output.FlushAsync();
        }

        return 0;
    }

    private static async Task<object> ConnectAsync(JsonElement command, ConnectionFactory factory, ConcurrentBag<LoadConnection> connections, Sink sink)
    {
        var protocol = command.GetProperty("protocol").GetString() == "socketio" ? Protocol.SocketIO : Protocol.SignalR;
        var endpoints = command.GetProperty("endpoints").EnumerateArray().Select(e => new Uri(e.GetString()!)).ToArray();
        var first = command.GetProperty("first").GetInt32();
        var count = command.GetProperty("count").GetInt32();
        var failed = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(
            Enumerable.Range(first, count),
            new ParallelOptions { MaxDegreeOfParallelism = command.GetProperty("concurrency").GetInt32() },
            async (index, _) =>
            {
                LoadConnection? connection = null;
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                    connection = await factory.ConnectAsync(protocol, index, endpoints[index % endpoints.Length], timeout.Token);
                    connection.Sink = sink;
                    await connection.RoundTripAsync(timeout.Token);
                    connections.Add(connection);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // A connection that did not finish connecting is closed, so that it is not counted as receiving either.
                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                    }

                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, ex.Message, null);
                }
            });
        return new { open = count - failed, failed, seconds = clock.Elapsed.TotalSeconds, firstError };
    }

    /// <summary>When each connection got each bench message, by its sequence number.</summary>
    private sealed class Sink : IDeliverySink
    {
        private readonly ConcurrentDictionary<long, ConcurrentQueue<long>> _latencies = new();

        public void Deliver(LoadConnection receiver, int sender, long sequence, long timestamp)
        {
            var micros = Stopwatch.GetElapsedTime(timestamp).Ticks / 10;
            _latencies.GetOrAdd(sequence, static _ => new ConcurrentQueue<long>()).Enqueue(micros);
        }

        public int Count(long sequence) => _latencies.TryGetValue(sequence, out var queue) ? queue.Count : 0;

        public long[] Latencies(long sequence) => _latencies.TryGetValue(sequence, out var queue) ? [.. queue] : [];
    }
}
