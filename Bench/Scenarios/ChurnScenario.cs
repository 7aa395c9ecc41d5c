using System.Collections.Concurrent;
using System.Diagnostics;
using Realtime.Bench.Clients;
using Realtime.Bench.Measure;
using Realtime.Bench.Systems;

namespace Realtime.Bench.Scenarios;

/// <summary>
/// Connections come and go while rooms talk, and a silo dies midway. Residents stay in their rooms; one of each
/// room sends at a fixed rate, waiting for each send to be acknowledged. Churners connect (to the servers in turn),
/// join a room, stay a moment, leave and disconnect, started at a steady rate. Halfway through, where the system has
/// silos, one is killed (<c>kill -9</c>); it is started again after the run. Resident memory of every server process
/// is sampled each second. Every send that was acknowledged must reach every resident of its room once; a send that
/// failed is counted as failed (its sender was told), not as lost.
/// </summary>
public sealed class ChurnScenario(BenchOptions options, SystemUnderTest system, ConnectionFactory factory, Action<string> log)
{
    public async Task<ScenarioResult> RunAsync()
    {
        var rooms = options.ChurnRooms;
        var members = options.ChurnResidents;
        var residents = rooms * members;
        var ledger = new DeliveryLedger(residents);
        var endpoints = system.Endpoints;
        var connections = new LoadConnection[residents];
        await Parallel.ForEachAsync(Enumerable.Range(0, residents), new ParallelOptions { MaxDegreeOfParallelism = options.ConnectConcurrency }, async (i, _) =>
        {
            var connection = await factory.ConnectAsync(system.Protocol, i, endpoints[i % endpoints.Count], Timeout());
            connection.Sink = ledger;
            await connection.JoinAsync(RoomOf(i), Timeout());
            connections[i] = connection;
        });

        var succeeded = Enumerable.Range(0, rooms).Select(_ => new ConcurrentDictionary<long, bool>()).ToArray();
        var failedSends = 0L;
        var cycles = 0L;
        var failedCycles = 0L;
        var skipped = 0L;
        string? firstCycleError = null;
        var lastSuccess = new long[rooms];
        long longestOutageTicks = 0;
        var memory = new List<MemorySample>();
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var window = new DeliveryLedger.Window();
        ledger.Open(window);

        var senders = Enumerable.Range(0, rooms).Select(r => Task.Run(() => SendAsync(r))).ToList();
        var sampler = Task.Run(SampleAsync);
        var churn = Task.Run(ChurnAsync);

        string? killed = null;
        double? killedAt = null;
        await Task.Delay(TimeSpan.FromSeconds(options.ChurnSeconds / 2));
        if (system.Silos.Count > 1)
        {
            killed = system.Silos[^1];
            killedAt = clock.Elapsed.TotalSeconds;
            system.Kill(killed);
            log($"  churn: killed {killed} at {killedAt:0.0} s");
        }

        await Task.Delay(TimeSpan.FromSeconds(options.ChurnSeconds / 2));
        await stop.CancelAsync();
        await Task.WhenAll([.. senders, churn]);
        ledger.Close();
        var seconds = clock.Elapsed.TotalSeconds;

        // Let the last messages arrive, then read the memory the run left behind.
        await Pacing.DrainAsync(ledger);
        await Pacing.SettleAsync(system, seconds: 10);
        await sampler;
        var settled = ProcessStats.ResidentBytes(system.ServerPids);
        long lost = 0, acknowledged = 0;
        for (var r = 0; r < rooms; r++)
        {
            var sender = r * members;
            acknowledged += succeeded[r].Count;
            foreach (var (sequence, _) in succeeded[r])
            {
                for (var m = 0; m < members; m++)
                {
                    lost += ledger.Received(sender + m, sender, sequence) ? 0 : 1;
                }
            }
        }

        await Parallel.ForEachAsync(connections, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) => await c.DisposeAsync());
        if (killed is not null)
        {
            await system.RestartSiloAsync(killed);
        }

        var latency = window.Latency();
        var result = new ChurnResult(seconds, killed, killedAt, cycles, failedCycles, skipped, acknowledged, failedSends, lost, ledger.Duplicates(),
            longestOutageTicks / (double)Stopwatch.Frequency, memory, settled, latency.Percentile(0.5), latency.Percentile(0.99), latency.Max);
        log($"  churn: {cycles / seconds:0} connections/s through join and leave ({failedCycles} cycles failed{(firstCycleError is null ? "" : $", the first with: {firstCycleError}")}), " +
            $"{acknowledged} sends acknowledged, {failedSends} failed, lost {lost}, duplicated {result.Duplicated}; longest time without an acknowledged send in a room {result.LongestOutageSeconds:0.0} s; " +
            $"server memory {memory[0].ServerBytes / 1048576.0:0} -> peak {memory.Max(m => m.ServerBytes) / 1048576.0:0} -> {settled / 1048576.0:0} MiB settled");
        return new ScenarioResult(system.Kind.Name, ScenarioNames.Churn, Setup(), residents, [], acknowledged, lost, result.Duplicated, 0, null, null) { Churn = result };

        string RoomOf(int resident) => $"churn-{resident / members}";

        Task SendAsync(int room)
        {
            var sender = connections[room * members];
            Interlocked.Exchange(ref lastSuccess[room], Stopwatch.GetTimestamp());
            return Pacing.EveryAsync(options.ChurnSendRate, stop.Token, async due =>
            {
                var sequence = ledger.SentBy(sender.Index);
                ledger.CountSent(sender.Index);
                try
                {
                    await sender.SendToRoomAcknowledgedAsync(RoomOf(sender.Index), LoadConnection.Message(sender.Index, sequence, due, options.MessageSize), Timeout());
                    succeeded[room][sequence] = true;
                    var now = Stopwatch.GetTimestamp();
                    InterlockedMax(ref longestOutageTicks, now - Interlocked.Exchange(ref lastSuccess[room], now));
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Interlocked.Increment(ref failedSends);
                }
            }, skipWhenBehind: true);
        }

        async Task ChurnAsync()
        {
            var interval = TimeSpan.FromSeconds(1.0 / options.ChurnRate);
            var running = new List<Task>();
            var next = residents;
            using var ticker = new PeriodicTimer(interval);
            try
            {
                while (await ticker.WaitForNextTickAsync(stop.Token))
                {
                    running.RemoveAll(t => t.IsCompleted);
                    if (running.Count >= options.ChurnRate * 10)
                    {
                        // The system is that far behind: do not pile up more.
                        Interlocked.Increment(ref skipped);
                        continue;
                    }

                    running.Add(CycleAsync(next++));
                }
            }
            catch (OperationCanceledException)
            {
            }

            await Task.WhenAll(running);
        }

        async Task CycleAsync(int index)
        {
            LoadConnection? connection = null;
            try
            {
                connection = await factory.ConnectAsync(system.Protocol, index, endpoints[index % endpoints.Count], Timeout());
                var room = $"churn-{Random.Shared.Next(rooms)}";
                await connection.JoinAsync(room, Timeout());
                await Task.Delay(TimeSpan.FromMilliseconds(500 + Random.Shared.Next(1500)));
                await connection.LeaveAsync(room, Timeout());
                Interlocked.Increment(ref cycles);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Interlocked.Increment(ref failedCycles);
                Interlocked.CompareExchange(ref firstCycleError, ex.Message, null);
            }
            finally
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
            }
        }

        async Task SampleAsync()
        {
            using var ticker = new PeriodicTimer(TimeSpan.FromSeconds(1));
            do
            {
                memory.Add(new MemorySample(clock.Elapsed.TotalSeconds, ProcessStats.ResidentBytes(system.ServerPids), ProcessStats.ResidentBytes(system.EdgePids)));
            }
            while (!stop.IsCancellationRequested && await ticker.WaitForNextTickAsync(CancellationToken.None));
        }
    }

    private string Setup() =>
        $"{options.ChurnRooms} rooms × {options.ChurnResidents} residents, 1 sender per room at {options.ChurnSendRate} acknowledged sends/s; " +
        $"{options.ChurnRate} new connections/s each joining a room for 0.5–2 s; {options.ChurnSeconds:0} s, a silo killed halfway where there are silos";

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static CancellationToken Timeout() => Pacing.Timeout();
}

/// <summary>Resident memory of the server processes (all, and the connection-holding ones), some seconds into a run.</summary>
public sealed record MemorySample(double Seconds, long ServerBytes, long EdgeBytes);

/// <summary>What the churn scenario saw.</summary>
public sealed record ChurnResult(
    double Seconds,
    string? KilledSilo,
    double? KilledAtSeconds,
    long Cycles,
    long FailedCycles,
    long SkippedCycles,
    long Acknowledged,
    long FailedSends,
    long Lost,
    long Duplicated,
    double LongestOutageSeconds,
    IReadOnlyList<MemorySample> Memory,
    long SettledServerBytes,
    long P50Micros,
    long P99Micros,
    long MaxMicros);
