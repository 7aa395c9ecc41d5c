using System.Diagnostics;
using Realtime.Bench.Clients;
using Realtime.Bench.Measure;
using Realtime.Bench.Systems;
using Group = Realtime.Bench.Measure.DeliveryLedger.Group;

namespace Realtime.Bench.Scenarios;

/// <summary>
/// One client floods while the others talk. Small rooms over the servers, one sender each at a fixed rate: their
/// latency is measured alone, then again while one more client sends to a room of its own as fast as its connection
/// takes. This project's systems run with a per-connection rate limit (<c>Gateway:RateLimit</c>), started for this
/// scenario alone; the others have no such setting.
/// </summary>
public sealed class FloodScenario(BenchOptions options, SystemKind kind, BuildOutput build, ConnectionFactory factory, Action<string> log)
{
    public async Task<ScenarioResult> RunAsync()
    {
        var limit = options.FloodRateLimit;
        string[] settings = kind.IsOurs
            ? [$"--Gateway:RateLimit:MessagesPerSecond={limit}", $"--Gateway:RateLimit:MessageBurst={limit}"]
            : [];
        await using var system = await SystemUnderTest.StartAsync(kind, build, new SystemShape(Settings: settings));
        var rooms = options.FloodRooms;
        var members = options.FloodMembers;
        var count = rooms * members;
        var groups = Enumerable.Range(0, rooms).Select(r => new Group([.. Enumerable.Range(r * members, members)], [r * members])).ToList();
        var ledger = new DeliveryLedger(count);
        var endpoints = system.Endpoints;
        var connections = new LoadConnection[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = options.ConnectConcurrency }, async (i, _) =>
        {
            var connection = await factory.ConnectAsync(system.Protocol, i, endpoints[i % endpoints.Count], Timeout());
            connection.Sink = ledger;
            await connection.JoinAsync($"flood-{i / members}", Timeout());
            connections[i] = connection;
        });

        await using var flooder = await factory.ConnectAsync(system.Protocol, count, endpoints[0], Timeout());
        await flooder.JoinAsync("flooder", Timeout());
        try
        {
            // The system was started for this scenario: a first, unmeasured round warms it up.
            await PhaseAsync("warm-up", flooding: false);
            var quiet = await PhaseAsync("alone", flooding: false);
            var flooded = await PhaseAsync("one client flooding", flooding: true);
            var check = ledger.Verify(groups);
            var result = new FloodResult(kind.IsOurs ? limit : null, quiet.Phase, flooded.Phase, flooded.FlooderSent, flooded.FlooderSeconds, !flooder.IsOpen);
            log($"  flood: victims' p50 / p99 {quiet.Phase.P50Micros / 1000.0:0.0} / {quiet.Phase.P99Micros / 1000.0:0.0} ms alone, " +
                $"{flooded.Phase.P50Micros / 1000.0:0.0} / {flooded.Phase.P99Micros / 1000.0:0.0} ms while one client sent {result.FlooderPerSecond:N0} msg/s" +
                $"{(result.FlooderDisconnected ? " (then it was disconnected)" : "")}; lost {check.Lost}, duplicated {check.Duplicated}");
            return new ScenarioResult(kind.Name, ScenarioNames.Flood, Setup(kind), count, [quiet.Phase, flooded.Phase], ledger.Sent, check.Lost, check.Duplicated, check.Unexpected, null, null) { Flood = result };
        }
        finally
        {
            await Parallel.ForEachAsync(connections, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) => await c.DisposeAsync());
        }

        async Task<(PhaseResult Phase, long FlooderSent, double FlooderSeconds)> PhaseAsync(string name, bool flooding)
        {
            using var stop = new CancellationTokenSource();
            var senders = groups.Select(g => Task.Run(() => SendAtRateAsync(connections[g.Senders[0]], stop.Token))).ToList();
            long flooderSent = 0;
            var floodClock = Stopwatch.StartNew();
            var flood = flooding ? Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested && flooder.IsOpen)
                {
                    try
                    {
                        await flooder.SendToRoomAsync("flooder", LoadConnection.Message(count, flooderSent, Stopwatch.GetTimestamp(), options.MessageSize));
                        flooderSent++;
                    }
                    catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException or ObjectDisposedException)
                    {
                        return;
                    }
                }
            }) : Task.CompletedTask;

            await Task.Delay(TimeSpan.FromSeconds(options.WarmupSeconds));
            var window = new DeliveryLedger.Window();
            var cpu = system.Processes.ToDictionary(p => p.Name, p => ProcessStats.CpuSeconds(p.Pid));
            var clock = Stopwatch.StartNew();
            ledger.Open(window);
            await Task.Delay(TimeSpan.FromSeconds(options.Seconds));
            ledger.Close();
            var seconds = clock.Elapsed.TotalSeconds;
            cpu = system.Processes.ToDictionary(p => p.Name, p => ProcessStats.CpuSeconds(p.Pid) - cpu[p.Name]);
            await stop.CancelAsync();
            await Task.WhenAll([.. senders, flood]);
            var floodSeconds = floodClock.Elapsed.TotalSeconds;
            await Task.Delay(TimeSpan.FromSeconds(1));
            var latency = window.Latency();
            var offered = groups.Count * options.FloodRate * (double)members;
            return (new PhaseResult(name, seconds, window.Delivered, offered, cpu.Values.Sum(), 0, latency.Percentile(0.5), latency.Percentile(0.99), latency.Percentile(0.999), latency.Max, cpu), flooderSent, floodSeconds);
        }

        Task SendAtRateAsync(LoadConnection sender, CancellationToken stop) => Pacing.EveryAsync(options.FloodRate, stop, async due =>
        {
            var sequence = ledger.SentBy(sender.Index);
            await sender.SendToRoomAsync($"flood-{sender.Index / members}", LoadConnection.Message(sender.Index, sequence, due, options.MessageSize));
            ledger.CountSent(sender.Index);
        });
    }

    private string Setup(SystemKind system) =>
        $"{options.FloodRooms} rooms × {options.FloodMembers} members over the servers, 1 sender per room at {options.FloodRate} msg/s " +
        $"({options.FloodRooms * options.FloodMembers * options.FloodRate:N0} deliveries/s); then one more client sends to a room of its own as fast as it can" +
        (system.IsOurs ? $"; rate limit {options.FloodRateLimit} msg/s per connection" : "");

    private static CancellationToken Timeout() => Pacing.Timeout();
}

/// <summary>What the flood scenario saw: the victims' latency alone and while one client flooded, and the flooder's fate.</summary>
public sealed record FloodResult(int? RateLimit, PhaseResult Alone, PhaseResult Flooded, long FlooderSent, double FlooderSeconds, bool FlooderDisconnected)
{
    public double FlooderPerSecond => FlooderSent / Math.Max(0.001, FlooderSeconds);
}
