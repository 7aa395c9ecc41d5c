using System.Diagnostics;
using System.Text.Json;
using Realtime.Bench.Clients;
using Realtime.Bench.Measure;
using Realtime.Bench.Systems;

namespace Realtime.Bench.Scenarios;

/// <summary>
/// Many idle connections, then namespace broadcasts to all of them. One process may hold at most its open-file limit
/// of sockets, so the connections are spread over as many connection-holding processes (gateways, Node processes) as
/// that takes, at least two, and over load-client worker processes (<see cref="IdleWorker"/>); a single-process system
/// (plain SignalR, embedded) gets as many as one process holds. The system is started for this scenario alone.
/// </summary>
public sealed class ScaleScenario(BenchOptions options, SystemKind kind, BuildOutput build, ConnectionFactory factory, Action<string> log)
{
    private static readonly TimeSpan BroadcastTimeout = TimeSpan.FromSeconds(60);

    public async Task<ScenarioResult> RunAsync()
    {
        var perProcess = IdleWorker.ConnectionsPerProcess();
        var singleProcess = kind.Name is SystemKind.SignalRName or SystemKind.EmbeddedName;
        var requested = singleProcess ? Math.Min(options.ScaleConnections, perProcess) : options.ScaleConnections;
        var edges = singleProcess ? 1 : Math.Max(2, (requested + perProcess - 1) / perProcess);
        log($"  scale: {requested:N0} connections over {edges} connection-holding process(es), at most {perProcess:N0} per process");
        await using var system = await SystemUnderTest.StartAsync(kind, build, new SystemShape(edges));
        var workers = new List<Worker>();
        try
        {
            await Pacing.SettleAsync(system, seconds: 10);
            var serverBefore = ProcessStats.ResidentBytes(system.ServerPids);
            var edgeBefore = ProcessStats.ResidentBytes(system.EdgePids);
            var shares = Enumerable.Range(0, (requested + perProcess - 1) / perProcess).Select(w => Math.Min(perProcess, requested - (w * perProcess))).ToList();
            for (var w = 0; w < shares.Count; w++)
            {
                workers.Add(Worker.Start(build));
            }

            var endpoints = system.Endpoints.Select(e => e.ToString()).ToArray();
            var clock = Stopwatch.StartNew();
            var answers = await Task.WhenAll(workers.Select((worker, w) => worker.AskAsync(new
            {
                op = "connect",
                protocol = kind.Protocol == Protocol.SocketIO ? "socketio" : "signalr",
                endpoints,
                first = w * perProcess,
                count = shares[w],
                sources = options.SourceAddresses,
                concurrency = Math.Max(8, options.ConnectConcurrency / shares.Count),
            }, TimeSpan.FromMinutes(20))));
            var seconds = clock.Elapsed.TotalSeconds;
            var open = answers.Sum(a => a.GetProperty("open").GetInt32());
            var failed = answers.Sum(a => a.GetProperty("failed").GetInt32());
            if (answers.Select(a => a.GetProperty("firstError")).FirstOrDefault(e => e.ValueKind == JsonValueKind.String) is { ValueKind: JsonValueKind.String } error)
            {
                log($"  scale: {failed} connections failed, the first with: {error.GetString()}");
            }

            await Pacing.SettleAsync(system, seconds: 10);
            var edgeAfter = ProcessStats.ResidentBytes(system.EdgePids);
            var serverAfter = ProcessStats.ResidentBytes(system.ServerPids);

            // Broadcasts from one more connection: each one's sequence number tells the workers which to wait for.
            var broadcasts = new List<BroadcastReach>();
            await using var sender = await factory.ConnectAsync(kind.Protocol, requested, system.Endpoints[0], new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            for (var b = 0; b < options.ScaleBroadcasts; b++)
            {
                await sender.BroadcastAsync(LoadConnection.Message(requested, b, Stopwatch.GetTimestamp(), options.MessageSize));
                var reports = await Task.WhenAll(workers.Select(worker => worker.AskAsync(new { op = "report", sequence = b, timeoutSeconds = BroadcastTimeout.TotalSeconds }, BroadcastTimeout * 2)));
                var micros = reports.SelectMany(r => r.GetProperty("micros").EnumerateArray().Select(m => m.GetInt64())).Order().ToArray();
                var reach = new BroadcastReach(micros.Length, reports.Sum(r => r.GetProperty("open").GetInt32()), Percentile(micros, 0.5), Percentile(micros, 0.99), micros.Length == 0 ? 0 : micros[^1]);
                broadcasts.Add(reach);
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            var result = new ScaleResult(requested, edges, open, failed, seconds, serverBefore, serverAfter, edgeBefore, edgeAfter, broadcasts);
            var median = broadcasts.OrderBy(b => b.MaxMicros).ElementAt(broadcasts.Count / 2);
            log($"  scale: {result.ConnectionsPerSecond:N0} conn/s, {result.EdgeBytesPerConnection / 1024:0.0} KiB per idle connection on the connection-holding processes, " +
                $"a broadcast reached {median.Reached:N0} of {median.Open:N0} in {median.MaxMicros / 1000.0:0} ms (median of {broadcasts.Count}; p50 {median.P50Micros / 1000.0:0} ms)");
            var incident = system.Exited.Count > 0 ? $"server process {string.Join(", ", system.Exited)} exited during the run" : null;
            return new ScenarioResult(kind.Name, ScenarioNames.Scale, $"{requested:N0} idle connections over {edges} connection-holding process(es), {shares.Count} load-client process(es); {options.ScaleBroadcasts} namespace broadcasts", open, [], broadcasts.Count, broadcasts.Sum(b => (long)(b.Open - b.Reached)), 0, 0, null, null, incident) { Scale = result };
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }
        }
    }

    private static long Percentile(long[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    /// <summary>One <see cref="IdleWorker"/> process.</summary>
    private sealed class Worker : IAsyncDisposable
    {
        private readonly Process _process;

        private Worker(Process process) => _process = process;

        public static Worker Start(BuildOutput build)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
            info.ArgumentList.Add(build.Bench);
            info.ArgumentList.Add("idle-worker");
            return new Worker(Process.Start(info) ?? throw new InvalidOperationException("The worker did not start."));
        }

        public async Task<JsonElement> AskAsync(object command, TimeSpan timeout)
        {
            await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(command));
            await _process.StandardInput.FlushAsync();
            var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(timeout) ?? throw new InvalidOperationException("The worker exited.");
            return JsonDocument.Parse(line).RootElement.Clone();
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await _process.StandardInput.WriteLineAsync("{\"op\":\"close\"}");
                await _process.StandardInput.FlushAsync();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }
    }
}

/// <summary>One broadcast of the scale scenario: how many connections it reached, and how long they waited for it.</summary>
public sealed record BroadcastReach(int Reached, int Open, long P50Micros, long P99Micros, long MaxMicros);

/// <summary>The scale scenario: connecting, memory per idle connection, and broadcasts to all.</summary>
public sealed record ScaleResult(
    int Requested,
    int EdgeProcesses,
    int Open,
    int Failed,
    double ConnectSeconds,
    long ServerRssBefore,
    long ServerRssAfter,
    long EdgeRssBefore,
    long EdgeRssAfter,
    IReadOnlyList<BroadcastReach> Broadcasts)
{
    public double ConnectionsPerSecond => Open / ConnectSeconds;

    public double EdgeBytesPerConnection => (EdgeRssAfter - EdgeRssBefore) / (double)Math.Max(1, Open);

    public double ServerBytesPerConnection => (ServerRssAfter - ServerRssBefore) / (double)Math.Max(1, Open);

    /// <summary>The broadcast of median time to reach every connection.</summary>
    public BroadcastReach? Median => Broadcasts.Count == 0 ? null : Broadcasts.OrderBy(b => b.MaxMicros).ElementAt(Broadcasts.Count / 2);
}
