using System.Diagnostics;
using Realtime.Bench.Clients;
using Realtime.Bench.Measure;
using Realtime.Bench.Systems;
using Group = Realtime.Bench.Measure.DeliveryLedger.Group;

namespace Realtime.Bench.Scenarios;

/// <summary>
/// A share of the clients lose their connection at once and resume on the other gateway while their rooms go on.
/// Rooms of members over the servers, one sender each at a fixed rate; a quarter of the other members made their
/// sessions resumable (<c>Session()</c>) and kept each room's last position, as the demo page does. They drop their
/// connections together, stay away a moment, then reconnect, each to another server than before, and call
/// <c>Resume</c>. Reported: how long each took from reconnecting to having every message sent before it reconnected,
/// how many were replayed, and, for every member, every message lost or duplicated. SignalR's resume is this project's;
/// socket.io's Redis adapter has no connection state recovery, and plain SignalR none across servers.
/// </summary>
public sealed class RecoveryScenario(BenchOptions options, SystemUnderTest system, ConnectionFactory factory, Action<string> log)
{
    public async Task<ScenarioResult> RunAsync()
    {
        if (!system.Kind.IsOurs || system.Protocol != Protocol.SignalR)
        {
            return new ScenarioResult(system.Kind.Name, ScenarioNames.Recovery, Setup(), 0, [], 0, 0, 0, 0, null, null)
            {
                NotOffered = system.Kind.Protocol == Protocol.SocketIO
                    ? (system.Kind.IsOurs ? "socket.io clients recover with connection state recovery, which this harness's socket.io client does not speak" : "socket.io's Redis adapter has no connection state recovery")
                    : "plain SignalR's stateful reconnect goes back to the same server only",
            };
        }

        var rooms = options.RecoveryRooms;
        var members = options.RecoveryMembers;
        var count = rooms * members;
        var groups = Enumerable.Range(0, rooms).Select(r => new Group([.. Enumerable.Range(r * members, members)], [r * members])).ToList();
        bool Recovers(int i) => i % members != 0 && i % 4 == 1;
        var ledger = new DeliveryLedger(count);
        var endpoints = system.Endpoints;
        var connections = new LoadConnection[count];
        var tickets = new Dictionary<int, (string ConnectionId, string Token)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = options.ConnectConcurrency }, async (i, _) =>
        {
            var connection = await factory.ConnectAsync(system.Protocol, i, endpoints[i % endpoints.Count], Timeout(), trackPositions: Recovers(i));
            connection.Sink = ledger;
            await connection.JoinAsync(RoomOf(i), Timeout());
            if (Recovers(i))
            {
                var session = await ((SignalRLoadConnection)connection).CallAsync("Session", [], Timeout());
                lock (tickets)
                {
                    tickets[i] = (session.GetProperty("connectionId").GetString()!, session.GetProperty("token").GetString()!);
                }
            }

            connections[i] = connection;
        });

        using var stop = new CancellationTokenSource();
        var senders = groups.Select(g => Task.Run(() => SendAsync(connections[g.Senders[0]]))).ToList();
        await Task.Delay(TimeSpan.FromSeconds(options.WarmupSeconds));

        // The network goes for a quarter of the members, all at once.
        var recoverers = tickets.Keys.Order().ToList();
        foreach (var i in recoverers)
        {
            connections[i].Abort();
        }

        await Task.Delay(options.RecoveryOutage);
        var catchUp = new double[recoverers.Count];
        var resumeCalls = new double[recoverers.Count];
        var replayed = 0L;
        var notRecovered = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, recoverers.Count), new ParallelOptions { MaxDegreeOfParallelism = options.ConnectConcurrency }, async (k, _) =>
        {
            var i = recoverers[k];
            var old = (SignalRLoadConnection)connections[i];
            var started = Stopwatch.GetTimestamp();
            var sender = (i / members) * members;
            var target = ledger.SentBy(sender);
            var connection = (SignalRLoadConnection)await factory.ConnectAsync(system.Protocol, i, endpoints[(i + 1) % endpoints.Count], Timeout(), trackPositions: true);
            connection.Sink = ledger;
            var (connectionId, token) = tickets[i];
            var answer = await connection.CallAsync("Resume", [connectionId, token, old.Positions()], Timeout());
            resumeCalls[k] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Interlocked.Add(ref replayed, answer.GetProperty("replayed").GetInt32());
            if (!answer.GetProperty("recovered").GetBoolean() || answer.GetProperty("lost").GetArrayLength() > 0)
            {
                Interlocked.Increment(ref notRecovered);
            }

            connections[i] = connection;
            await old.DisposeAsync();
            var deadline = Stopwatch.StartNew();
            while (ledger.CountBelow(i, sender, target) < target && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(5);
            }

            catchUp[k] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        });

        await Task.Delay(TimeSpan.FromSeconds(options.WarmupSeconds));
        await stop.CancelAsync();
        await Task.WhenAll(senders);
        await Pacing.DrainAsync(ledger, ledger.Expected(groups));
        var check = ledger.Verify(groups);
        await Parallel.ForEachAsync(connections, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) => await c.DisposeAsync());

        Array.Sort(catchUp);
        Array.Sort(resumeCalls);
        var result = new RecoveryResult(recoverers.Count, count, options.RecoveryOutage.TotalSeconds, notRecovered, replayed,
            Percentile(catchUp, 0.5), Percentile(catchUp, 0.99), catchUp.Length == 0 ? 0 : catchUp[^1], Percentile(resumeCalls, 0.5), resumeCalls.Length == 0 ? 0 : resumeCalls[^1]);
        log($"  recovery: {recoverers.Count} of {count} clients resumed after {result.OutageSeconds:0.#} s away ({notRecovered} not recovered), {replayed} messages replayed; " +
            $"caught up in p50 {result.CatchUpP50Millis:0} ms, p99 {result.CatchUpP99Millis:0} ms, max {result.CatchUpMaxMillis:0} ms; lost {check.Lost}, duplicated {check.Duplicated}, misdelivered {check.Unexpected}");
        return new ScenarioResult(system.Kind.Name, ScenarioNames.Recovery, Setup(), count, [], ledger.Sent, check.Lost, check.Duplicated, check.Unexpected, null, null) { Recovery = result };

        string RoomOf(int member) => $"recover-{member / members}";

        Task SendAsync(LoadConnection sender) => Pacing.EveryAsync(options.RecoveryRate, stop.Token, async due =>
        {
            var sequence = ledger.SentBy(sender.Index);
            await sender.SendToRoomAsync(RoomOf(sender.Index), LoadConnection.Message(sender.Index, sequence, due, options.MessageSize));
            ledger.CountSent(sender.Index);
        });
    }

    private string Setup() =>
        $"{options.RecoveryRooms} rooms × {options.RecoveryMembers} members over two servers, 1 sender per room at {options.RecoveryRate} msg/s; " +
        $"a quarter of the others drop together, stay away {options.RecoveryOutage.TotalSeconds:0.#} s, and resume on the other server";

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static CancellationToken Timeout() => Pacing.Timeout();
}

/// <summary>What the recovery scenario saw.</summary>
public sealed record RecoveryResult(
    int Recoverers,
    int Connections,
    double OutageSeconds,
    int NotRecovered,
    long Replayed,
    double CatchUpP50Millis,
    double CatchUpP99Millis,
    double CatchUpMaxMillis,
    double ResumeCallP50Millis,
    double ResumeCallMaxMillis);
