using System.Diagnostics;
using Realtime.Bench.Clients;
using Realtime.Bench.Measure;
using Realtime.Bench.Systems;
using Group = Realtime.Bench.Measure.DeliveryLedger.Group;

namespace Realtime.Bench.Scenarios;

/// <summary>The scenarios' names.</summary>
public static class ScenarioNames
{
    public const string Storm = "storm";
    public const string Fanout = "fanout";
    public const string Broadcast = "broadcast";
    public const string Rooms = "rooms";
    public const string SmallFanout = "fanout-small";
    public const string SmallFanoutJs = "fanout-small-js";
    public const string Churn = "churn";
    public const string Recovery = "recovery";
    public const string Flood = "flood";
    public const string Scale = "scale";
    public const string Cold = "cold";
    public const string Soak = "soak";

    public static readonly IReadOnlyList<string> All = [Storm, Fanout, Broadcast, Rooms, SmallFanout, SmallFanoutJs, Cold, Soak, Recovery, Flood, Churn, Scale];

    public static string Check(string name) =>
        All.Contains(name) ? name : throw new ArgumentException($"Unknown scenario '{name}'; the scenarios are {string.Join(", ", All)}.");
}

/// <summary>Runs the scenarios against one running system, with the load client in this process.</summary>
public sealed class ScenarioRunner(BenchOptions options, SystemUnderTest system, ConnectionFactory factory, Action<string> log)
{
    public const string Saturated = "saturated";
    public const string FixedLoad = "fixed load";

    private readonly IReadOnlyList<int> _self = [Environment.ProcessId];

    public async Task<ScenarioResult> RunAsync(string scenario)
    {
        var exited = system.Exited;
        var result = await RunScenarioAsync(scenario);
        var died = system.Exited.Except(exited).ToList();
        if (died.Count == 0)
        {
            return result;
        }

        log($"  {string.Join(", ", died)} exited during {scenario}");
        return result with { Incident = $"server process {string.Join(", ", died)} exited during the run" };
    }

    private async Task<ScenarioResult> RunScenarioAsync(string scenario)
    {
        try
        {
            return scenario switch
            {
                ScenarioNames.Storm => await StormAsync(),
                ScenarioNames.Fanout => await FanoutAsync(),
                ScenarioNames.Broadcast => await BroadcastAsync(),
                ScenarioNames.Rooms => await SmallRoomsAsync(),
                ScenarioNames.SmallFanout => await SmallFanoutAsync(),
                ScenarioNames.SmallFanoutJs => await SmallFanoutJsAsync(),
                ScenarioNames.Churn => await new ChurnScenario(options, system, factory, log).RunAsync(),
                ScenarioNames.Recovery => await new RecoveryScenario(options, system, factory, log).RunAsync(),
                ScenarioNames.Flood => await new FloodScenario(options, system.Kind, BuildOutput.Find(), factory, log).RunAsync(),
                ScenarioNames.Scale => await new ScaleScenario(options, system.Kind, BuildOutput.Find(), factory, log).RunAsync(),
                ScenarioNames.Soak => await SoakAsync(),
                ScenarioNames.Cold => await new ColdScenario(options, system.Kind, BuildOutput.Find(), log).RunAsync(SmallFanoutRooms(), options.SmallFanoutRatePerSender),
                _ => throw new ArgumentException(scenario),
            };
        }
        catch (Exception ex)
        {
            log($"  {scenario} failed: {ex.Message}");
            return new ScenarioResult(system.Kind.Name, scenario, "", 0, [], 0, 0, 0, 0, null, ex.Message);
        }
    }

    /// <summary>N connections opened as fast as the system takes them, each ready once a round trip is back.</summary>
    private async Task<ScenarioResult> StormAsync()
    {
        var count = options.StormConnections;
        await SettleAsync();
        // Memory is counted from before the warm-up, as it would be for a cold start: what the warm-up leaves behind
        // (compiled code, grown heaps) counts against the storm.
        var serverBefore = ProcessStats.ResidentBytes(system.ServerPids);
        var edgeBefore = ProcessStats.ResidentBytes(system.EdgePids);

        // Unmeasured, like every scenario's warm-up: the load client and the servers compile the connection path here,
        // so that the rate is not the cost of whichever system the run starts with (see BENCHMARKS.md).
        await CloseAsync(await ConnectAsync(options.StormWarmupConnections, tolerateFailures: true));
        var clock = Stopwatch.StartNew();
        var connections = await ConnectAsync(count, tolerateFailures: true);
        var seconds = clock.Elapsed.TotalSeconds;
        try
        {
            await SettleAsync();
            var storm = new StormResult(count, count - connections.Count, seconds, serverBefore, ProcessStats.ResidentBytes(system.ServerPids), edgeBefore, ProcessStats.ResidentBytes(system.EdgePids));
            log($"  storm: {storm.ConnectionsPerSecond:0} conn/s, {storm.EdgeBytesPerConnection / 1024:0.0} KiB per idle connection, {storm.Failed} failed");
            return new ScenarioResult(system.Kind.Name, ScenarioNames.Storm, $"{count} connections, {options.ConnectConcurrency} opening at once, after {options.StormWarmupConnections} opened and closed unmeasured", count, [], 0, 0, 0, 0, storm, null);
        }
        finally
        {
            await CloseAsync(connections);
        }
    }

    /// <summary>R rooms of M members, members alternating between the servers; one sender per room, itself a member.</summary>
    private Task<ScenarioResult> FanoutAsync()
    {
        var rooms = Enumerable.Range(0, options.FanoutRooms)
            .Select(r => new Group(Enumerable.Range(r * options.FanoutMembers, options.FanoutMembers).ToList(), [r * options.FanoutMembers]))
            .ToList();
        return RoomsScenarioAsync(ScenarioNames.Fanout, $"{options.FanoutRooms} rooms × {options.FanoutMembers} members, 1 sender per room", rooms, options.FanoutRatePerSender);
    }

    /// <summary>
    /// A few rooms of a few members each, members alternating between the servers (about half of each room on each):
    /// one sender per room.
    /// </summary>
    private IReadOnlyList<Group> SmallFanoutRooms() =>
        Enumerable.Range(0, options.SmallFanoutRooms)
            .Select(r => new Group(Enumerable.Range(r * options.SmallFanoutMembers, options.SmallFanoutMembers).ToList(), [r * options.SmallFanoutMembers]))
            .ToList();

    private string SmallFanoutSetup(string client) =>
        $"{options.SmallFanoutRooms} rooms × {options.SmallFanoutMembers} members over two servers, 1 sender per room, {client}";

    private Task<ScenarioResult> SmallFanoutAsync() =>
        RoomsScenarioAsync(ScenarioNames.SmallFanout, SmallFanoutSetup("C# clients"), SmallFanoutRooms(), options.SmallFanoutRatePerSender);

    /// <summary>The small fan-out with the JavaScript client: the npm SignalR client (or socket.io-client) in Node.</summary>
    private async Task<ScenarioResult> SmallFanoutJsAsync()
    {
        var rooms = SmallFanoutRooms();
        var named = rooms.Select((r, i) => ($"room-{i}", r.Members, r.Senders)).ToList();
        await using var client = await JsLoadClient.StartAsync(
            BuildOutput.Find().JsClient, system.Protocol, system.Endpoints, named, options.Window, options.MessageSize);
        var phases = new List<PhaseResult>();
        foreach (var (name, rate) in new[] { (Saturated, (int?)null), (FixedLoad, options.SmallFanoutRatePerSender) })
        {
            Dictionary<string, double> byProcess = [];
            var clientCpu = 0.0;
            WorkCounters work = null!;
            var (delivered, seconds, p50, p99, p999, max) = await client.PhaseAsync(
                name,
                options.Seconds,
                phases.Count == 0 ? options.WarmupSeconds : options.NextWarmupSeconds,
                rate,
                opened: async () =>
                {
                    work = await system.WorkCountersAsync();
                    byProcess = system.Processes.ToDictionary(p => p.Name, p => ProcessStats.CpuSeconds(p.Pid));
                    clientCpu = ProcessStats.CpuSeconds(client.Pid);
                },
                closed: async () =>
                {
                    byProcess = system.Processes.ToDictionary(p => p.Name, p => ProcessStats.CpuSeconds(p.Pid) - byProcess[p.Name]);
                    clientCpu = ProcessStats.CpuSeconds(client.Pid) - clientCpu;
                    work = await system.WorkCountersAsync() - work;
                });
            var offered = rate is { } perSender ? rooms.Sum(g => g.Senders.Count * perSender * (double)g.Members.Count) : double.NaN;
            phases.Add(new PhaseResult(name, seconds, delivered, offered, byProcess.Values.Sum(), clientCpu, p50, p99, p999, max, byProcess, work, Fanout(rooms)));
        }

        var (sent, lost, duplicated, unexpected) = await client.CheckAsync();
        log($"  {ScenarioNames.SmallFanoutJs}: {phases[0].DeliveredPerSecond:0} msg/s, {phases[0].ServerMicrosPerDelivery:0.00} µs server CPU per delivery saturated, " +
            $"{phases[1].ServerMicrosPerDelivery:0.00} at fixed load; p50 {phases[1].P50Micros / 1000.0:0.0} ms, p99 {phases[1].P99Micros / 1000.0:0.0} ms (fixed load); " +
            $"lost {lost}, duplicated {duplicated}, misdelivered {unexpected}");
        var count = rooms.Sum(r => r.Members.Count);
        await SettleAsync();
        return new ScenarioResult(system.Kind.Name, ScenarioNames.SmallFanoutJs, SmallFanoutSetup(system.Protocol == Protocol.SocketIO ? "socket.io-client in Node" : "npm @microsoft/signalr in Node"), count, phases, sent, lost, duplicated, unexpected, null, null);
    }

    /// <summary>
    /// The small fan-out saturated for <see cref="BenchOptions.SoakMinutes"/> with the shipped failure detection: no
    /// node of a cluster may be declared dead (a live one that was would stop itself, and be counted as exited too).
    /// </summary>
    private async Task<ScenarioResult> SoakAsync()
    {
        var rooms = SmallFanoutRooms();
        var count = rooms.Sum(r => r.Members.Count);
        var roomOf = new string[count];
        foreach (var (room, index) in rooms.Select((r, i) => (r, i)))
        {
            foreach (var member in room.Members)
            {
                roomOf[member] = $"room-{index}";
            }
        }

        var deadBefore = await system.DeclaredDeadAsync();
        var connections = await ConnectAsync(count);
        try
        {
            await ForEachAsync(connections, c => c.JoinAsync(roomOf[c.Index], Timeout()));
            var ledger = new DeliveryLedger(connections.Count);
            foreach (var connection in connections)
            {
                connection.Sink = ledger;
            }

            var senders = rooms.SelectMany(r => r.Senders).Select(s => connections[s]).ToList();
            var phase = await PhaseAsync(Saturated, ledger, rooms, senders, (c, message) => c.SendToRoomAsync(roomOf[c.Index], message), rate: null, 0, options.SoakMinutes * 60);
            var check = ledger.Verify(rooms);
            var dead = await system.DeclaredDeadAsync() - deadBefore;
            log($"  soak: {options.SoakMinutes:0.#} min saturated, {phase.DeliveredPerSecond:0} msg/s, {phase.ServerCpuShare:P0} server CPU; nodes declared dead: {dead}; exited: {system.Exited.Count}");
            return new ScenarioResult(system.Kind.Name, ScenarioNames.Soak, SmallFanoutSetup($"C# clients, saturated for {options.SoakMinutes:0.#} min"), connections.Count, [phase], ledger.Sent, check.Lost, check.Duplicated, check.Unexpected, null, null,
                dead > 0 ? $"{dead} node(s) declared dead" : null);
        }
        finally
        {
            await CloseAsync(connections);
        }
    }

    /// <summary>Many chat-like rooms of 2 to 10 members; one sender per room.</summary>
    private Task<ScenarioResult> SmallRoomsAsync()
    {
        var random = new Random(42);
        var rooms = new List<Group>();
        var next = 0;
        for (var r = 0; r < options.SmallRooms; r++)
        {
            var size = random.Next(2, 11);
            rooms.Add(new Group(Enumerable.Range(next, size).ToList(), [next]));
            next += size;
        }

        return RoomsScenarioAsync(ScenarioNames.Rooms, $"{options.SmallRooms} rooms of 2–10 members ({next} connections), 1 sender per room", rooms, fixedRate: null);
    }

    private async Task<ScenarioResult> RoomsScenarioAsync(string name, string setup, IReadOnlyList<Group> rooms, int? fixedRate)
    {
        var count = rooms.Sum(r => r.Members.Count);
        var roomOf = new string[count];
        foreach (var (room, index) in rooms.Select((r, i) => (r, i)))
        {
            foreach (var member in room.Members)
            {
                roomOf[member] = $"room-{index}";
            }
        }

        var connections = await ConnectAsync(count);
        try
        {
            await ForEachAsync(connections, c => c.JoinAsync(roomOf[c.Index], Timeout()));
            var senders = rooms.SelectMany(r => r.Senders).Select(s => connections[s]).ToList();
            return await MeasureAsync(name, setup, connections, rooms, senders, (c, message) => c.SendToRoomAsync(roomOf[c.Index], message), fixedRate);
        }
        finally
        {
            await CloseAsync(connections);
        }
    }

    /// <summary>Every connection of the namespace hears every message; a few senders.</summary>
    private async Task<ScenarioResult> BroadcastAsync()
    {
        var count = options.BroadcastConnections;
        var connections = await ConnectAsync(count);
        try
        {
            var all = new Group(Enumerable.Range(0, count).ToList(), Enumerable.Range(0, options.BroadcastSenders).ToList());
            var senders = all.Senders.Select(s => connections[s]).ToList();
            return await MeasureAsync(ScenarioNames.Broadcast, $"{count} connections, {options.BroadcastSenders} senders", connections, [all], senders, (c, message) => c.BroadcastAsync(message), fixedRate: null);
        }
        finally
        {
            await CloseAsync(connections);
        }
    }

    private async Task<ScenarioResult> MeasureAsync(
        string name,
        string setup,
        IReadOnlyList<LoadConnection> connections,
        IReadOnlyList<Group> groups,
        IReadOnlyList<LoadConnection> senders,
        Func<LoadConnection, string, ValueTask> send,
        int? fixedRate)
    {
        var ledger = new DeliveryLedger(connections.Count);
        foreach (var connection in connections)
        {
            connection.Sink = ledger;
        }

        var phases = new List<PhaseResult> { await PhaseAsync(Saturated, ledger, groups, senders, send, rate: null, options.WarmupSeconds) };
        if (fixedRate is { } rate)
        {
            phases.Add(await PhaseAsync(FixedLoad, ledger, groups, senders, send, rate, options.NextWarmupSeconds));
        }

        var check = ledger.Verify(groups);
        var saturated = phases[0];
        log($"  {name}: {saturated.DeliveredPerSecond:0} msg/s, {saturated.ServerMicrosPerDelivery:0.00} µs server CPU per delivery, " +
            $"client CPU {saturated.ClientCpuShare:P0}; p99 {phases[^1].P99Micros / 1000.0:0.0} ms ({phases[^1].Name}); " +
            $"lost {check.Lost}, duplicated {check.Duplicated}, misdelivered {check.Unexpected}; server CPU s by process: " +
            string.Join(", ", saturated.CpuSecondsByProcess.Select(p => $"{p.Key} {p.Value:0.00}")));
        return new ScenarioResult(system.Kind.Name, name, setup, connections.Count, phases, ledger.Sent, check.Lost, check.Duplicated, check.Unexpected, null, null);
    }

    /// <summary>
    /// Senders send, unmeasured for the warm-up, then measured for the window: as fast as their credits allow
    /// (<paramref name="rate"/> null: each may have <see cref="BenchOptions.Window"/> messages in flight), or at a
    /// fixed rate each, latency measured from when each message was due. Then they stop and the ledger drains.
    /// </summary>
    private async Task<PhaseResult> PhaseAsync(
        string name,
        DeliveryLedger ledger,
        IReadOnlyList<Group> groups,
        IReadOnlyList<LoadConnection> senders,
        Func<LoadConnection, string, ValueTask> send,
        int? rate,
        double warmupSeconds,
        double? windowSeconds = null)
    {
        ledger.Windows = rate is null ? Enumerable.Range(0, ledger.SentLength).Select(i => (SemaphoreSlim?)new SemaphoreSlim(options.Window)).ToArray() : null;
        using var stop = new CancellationTokenSource();
        var loops = senders.Select(s => Task.Run(() => rate is { } r ? SendAtRateAsync(s, r) : SendSaturatedAsync(s))).ToList();

        await Task.Delay(TimeSpan.FromSeconds(warmupSeconds));
        var window = new DeliveryLedger.Window();
        var work = await system.WorkCountersAsync();
        var byProcess = system.Processes.ToDictionary(p => p.Name, p => ProcessStats.CpuSeconds(p.Pid));
        var clientCpu = ProcessStats.CpuSeconds(_self);
        var clock = Stopwatch.StartNew();
        ledger.Open(window);
        await Task.Delay(TimeSpan.FromSeconds(windowSeconds ?? options.Seconds));
        ledger.Close();
        var seconds = clock.Elapsed.TotalSeconds;
        byProcess = system.Processes.ToDictionary(p => p.Name, p => ProcessStats.CpuSeconds(p.Pid) - byProcess[p.Name]);
        var serverCpu = byProcess.Values.Sum();
        clientCpu = ProcessStats.CpuSeconds(_self) - clientCpu;
        work = await system.WorkCountersAsync() - work;

        await stop.CancelAsync();
        await Task.WhenAll(loops);
        await DrainAsync(ledger, groups);

        var latency = window.Latency();
        var offered = rate is { } perSender ? groups.Sum(g => g.Senders.Count * perSender * (double)g.Members.Count) : double.NaN;
        return new PhaseResult(name, seconds, window.Delivered, offered, serverCpu, clientCpu, latency.Percentile(0.5), latency.Percentile(0.99), latency.Percentile(0.999), latency.Max, byProcess, work, Fanout(groups));

        async Task SendSaturatedAsync(LoadConnection sender)
        {
            var credits = ledger.Windows![sender.Index]!;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    // A lost message never returns its credit: go on after a while rather than stall.
                    await credits.WaitAsync(TimeSpan.FromSeconds(5), stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                await SendOneAsync(sender, Stopwatch.GetTimestamp());
            }
        }

        Task SendAtRateAsync(LoadConnection sender, int perSecond) => Pacing.EveryAsync(perSecond, stop.Token, due => SendOneAsync(sender, due));

        async Task SendOneAsync(LoadConnection sender, long timestamp)
        {
            var sequence = ledger.SentBy(sender.Index);
            await send(sender, LoadConnection.Message(sender.Index, sequence, timestamp, options.MessageSize));
            ledger.CountSent(sender.Index);
        }
    }

    /// <summary>How many members the average group delivers each message to.</summary>
    private static double Fanout(IReadOnlyList<Group> groups) => groups.Average(g => (double)g.Members.Count);

    /// <summary>Waits until every message sent has reached every member it should, or nothing has arrived for 3 s.</summary>
    private static Task DrainAsync(DeliveryLedger ledger, IReadOnlyList<Group> groups) => Pacing.DrainAsync(ledger, ledger.Expected(groups));

    private async Task<List<LoadConnection>> ConnectAsync(int count, bool tolerateFailures = false)
    {
        var endpoints = system.Endpoints;
        var connections = new LoadConnection?[count];
        var failures = 0;
        string? firstError = null;
        await Parallel.ForEachAsync(
            Enumerable.Range(0, count),
            new ParallelOptions { MaxDegreeOfParallelism = options.ConnectConcurrency },
            async (i, _) =>
            {
                try
                {
                    var connection = await factory.ConnectAsync(system.Protocol, i, endpoints[i % endpoints.Count], Timeout());
                    await connection.RoundTripAsync(Timeout());
                    connections[i] = connection;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstError, ex.Message, null);
                }
            });

        var open = connections.Where(c => c is not null).Select(c => c!).ToList();
        if (failures > 0 && !tolerateFailures)
        {
            await CloseAsync(open);
            throw new InvalidOperationException($"{failures} of {count} connections failed, the first with: {firstError}");
        }

        if (failures > 0)
        {
            log($"  {failures} of {count} connections failed, the first with: {firstError}");
        }

        return open;
    }

    private static Task ForEachAsync(IEnumerable<LoadConnection> connections, Func<LoadConnection, Task> action) =>
        Parallel.ForEachAsync(connections, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) => await action(c));

    private async Task CloseAsync(IEnumerable<LoadConnection> connections)
    {
        await Parallel.ForEachAsync(connections, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) => await c.DisposeAsync());

        // Let the servers finish forgetting them before the next scenario measures anything.
        await SettleAsync();
    }

    /// <summary>Waits until the servers' CPU use is quiet (at most 5 s), so that one scenario's tail is not the next one's cost.</summary>
    private Task SettleAsync() => Pacing.SettleAsync(system);

    private static CancellationToken Timeout() => Pacing.Timeout();
}
