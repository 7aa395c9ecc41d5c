using System.Globalization;
using System.Text;
using Realtime.Bench.Scenarios;
using Realtime.Bench.Systems;

namespace Realtime.Bench.Report;

/// <summary>The results as Markdown: a table per scenario, and the ratios of this project's systems to the others.</summary>
public static class MarkdownReport
{
    public static string Write(RunInfo run, IReadOnlyList<ScenarioResult> results)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Measured {run.Date:yyyy-MM-dd HH:mm} UTC on {run.Machine}.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Command: `{run.Command}` ({(run.Options.Quick ? "quick mode, " : "")}{run.Options.Seconds:0.#} s windows, each scenario's first after {run.Options.WarmupSeconds:0.#} s of warm-up and later ones after {run.Options.NextWarmupSeconds:0.#} s, {run.Options.MessageSize}-character messages).");
        md.AppendLine();
        foreach (var kind in run.Options.Systems)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- `{kind.Name}`: {kind.Title}");
        }

        Throughput(md, results, ScenarioNames.Fanout, "Room fan-out");
        Throughput(md, results, ScenarioNames.Broadcast, "Namespace broadcast");
        Throughput(md, results, ScenarioNames.Rooms, "Many small rooms");
        Throughput(md, results, ScenarioNames.SmallFanout, "Small-room fan-out");
        Throughput(md, results, ScenarioNames.SmallFanoutJs, "Small-room fan-out, JavaScript clients");
        Throughput(md, results, ScenarioNames.Soak, "Soak: the small fan-out saturated, with the shipped failure detection (a node declared dead is reported below the table)");
        Storm(md, results);
        Recovery(md, results);
        Flood(md, results);
        Churn(md, results);
        Scale(md, results);
        Cold(md, results);
        return md.ToString();
    }

    private static void Cold(StringBuilder md, IReadOnlyList<ScenarioResult> all)
    {
        var results = Of(all, ScenarioNames.Cold);
        if (results.Count == 0)
        {
            return;
        }

        Table(md, "Cold start", $"{Setup(results)}. Server CPU µs per delivery in the windows given, from the first message; steady: the last 20 s.", ["system", "0–10 s", "10–20 s", "20–40 s", "steady", "first 10 s ÷ steady", "within 1.5× of steady after", "lost / duplicated / misdelivered"]);
        foreach (var result in results)
        {
            if (result.Cold is not { } c)
            {
                Failed(md, result);
                continue;
            }

            md.AppendLine(CultureInfo.InvariantCulture, $"| `{result.System}` | {c.FirstTenSeconds:0.00} | {c.Mean(10, 20):0.00} | {c.Mean(20, 40):0.00} | {c.Steady:0.00} | {c.FirstTenSeconds / c.Steady:0.00}× | {c.SecondsToWithin(1.5):0} s | {Losses(result)} |");
        }

        Incidents(md, results);
    }

    private static void Recovery(StringBuilder md, IReadOnlyList<ScenarioResult> all)
    {
        var results = Of(all, ScenarioNames.Recovery);
        if (results.Count == 0)
        {
            return;
        }

        Table(md, "Recovery", $"{Setup(results)}. Caught up: from reconnecting to having every message its room sent before it reconnected.", ["system", "resumed", "not recovered", "messages replayed", "caught up p50 / p99 / max (ms)", "Resume call p50 / max (ms)", "lost / duplicated / misdelivered"]);
        foreach (var result in results)
        {
            if (result.Recovery is not { } r)
            {
                Failed(md, result);
                continue;
            }

            md.AppendLine(CultureInfo.InvariantCulture, $"| `{result.System}` | {r.Recoverers} of {r.Connections}, after {r.OutageSeconds:0.#} s away | {r.NotRecovered} | {r.Replayed:N0} | {r.CatchUpP50Millis:0} / {r.CatchUpP99Millis:0} / {r.CatchUpMaxMillis:0} | {r.ResumeCallP50Millis:0} / {r.ResumeCallMaxMillis:0} | {Losses(result)} |");
        }

        Incidents(md, results);
    }

    private static void Flood(StringBuilder md, IReadOnlyList<ScenarioResult> all)
    {
        var results = Of(all, ScenarioNames.Flood);
        if (results.Count == 0)
        {
            return;
        }

        Table(md, "Flood", $"{Setup(results)}. Latency of the other clients' messages, from when each was due.", ["system", "rate limit", "others' p50 / p99 / p99.9 (ms), alone", "the same while one client floods", "flooder's messages/s", "flooder disconnected", "others' p99, flooding ÷ alone", "lost / duplicated / misdelivered"]);
        foreach (var result in results)
        {
            if (result.Flood is not { } f)
            {
                Failed(md, result);
                continue;
            }

            md.AppendLine(CultureInfo.InvariantCulture, $"| `{result.System}` | {(f.RateLimit is { } limit ? $"{limit} msg/s" : "none")} | {Latency(f.Alone)} | {Latency(f.Flooded)} | {f.FlooderPerSecond:N0} | {(f.FlooderDisconnected ? "yes" : "no")} | {Ratio(f.Flooded.P99Micros, f.Alone.P99Micros)} | {Losses(result)} |");
        }

        Incidents(md, results);
        var pairs = Pairs(results).Where(p => p.Ours.Flood is not null && p.Other.Flood is not null).ToList();
        if (pairs.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Ratios, this project ÷ the other (lower is better):");
            md.AppendLine();
            md.AppendLine("| | others' p50, flooding | others' p99, flooding |");
            md.AppendLine("|---|---:|---:|");
            foreach (var (ours, other) in pairs)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| `{ours.System}` ÷ `{other.System}` | {Ratio(ours.Flood!.Flooded.P50Micros, other.Flood!.Flooded.P50Micros)} | {Ratio(ours.Flood.Flooded.P99Micros, other.Flood.Flooded.P99Micros)} |");
            }
        }
    }

    private static void Churn(StringBuilder md, IReadOnlyList<ScenarioResult> all)
    {
        var results = Of(all, ScenarioNames.Churn);
        if (results.Count == 0)
        {
            return;
        }

        Table(md, "Churn", $"{Setup(results)}. A cycle is connect, join, stay, leave, disconnect; one that fails (the cluster could not complete a call while a silo was being declared dead) is counted, not retried. Lost: acknowledged sends a resident did not get. Memory: resident memory of all the server processes, sampled each second (plot: `churn.svg`); settled: after the run, once the servers' CPU is quiet.", ["system", "cycles/s done", "cycles failed", "silo killed at", "sends acknowledged / failed", "longest gap between acknowledged sends of a room", "residents' latency p50 / p99 / max (ms)", "server memory: start → peak → settled (MiB)", "lost / duplicated"]);
        foreach (var result in results)
        {
            if (result.Churn is not { } c)
            {
                Failed(md, result);
                continue;
            }

            var start = c.Memory.Count == 0 ? 0 : c.Memory[0].ServerBytes;
            var peak = c.Memory.Count == 0 ? 0 : c.Memory.Max(m => m.ServerBytes);
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| `{result.System}` | {c.Cycles / c.Seconds:0.0} | {c.FailedCycles} | {(c.KilledAtSeconds is { } at ? $"{c.KilledSilo}, {at:0} s" : "–")} | {c.Acknowledged:N0} / {c.FailedSends:N0} | {c.LongestOutageSeconds:0.0} s | {c.P50Micros / 1000.0:0.0} / {c.P99Micros / 1000.0:0.0} / {c.MaxMicros / 1000.0:0} | {start / 1048576.0:0} → {peak / 1048576.0:0} → {c.SettledServerBytes / 1048576.0:0} | {(c.Lost == 0 && c.Duplicated == 0 ? "none" : $"**{c.Lost:N0} / {c.Duplicated:N0}**")} |");
        }

        Incidents(md, results);
        var pairs = Pairs(results).Where(p => p.Ours.Churn is { Memory.Count: > 0 } && p.Other.Churn is { Memory.Count: > 0 }).ToList();
        if (pairs.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Ratios, this project ÷ the other (cycles/s: higher is better; the rest: lower is better; growth: peak less start):");
            md.AppendLine();
            md.AppendLine("| | cycles/s done | residents' p99 | longest gap | server memory growth |");
            md.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var (ours, other) in pairs)
            {
                static double Growth(ChurnResult c) => c.Memory.Max(m => m.ServerBytes) - c.Memory[0].ServerBytes;
                var (a, b) = (ours.Churn!, other.Churn!);
                md.AppendLine(CultureInfo.InvariantCulture, $"| `{ours.System}` ÷ `{other.System}` | {Ratio(a.Cycles / a.Seconds, b.Cycles / b.Seconds)} | {Ratio(a.P99Micros, b.P99Micros)} | {Ratio(a.LongestOutageSeconds, b.LongestOutageSeconds)} | {Ratio(Growth(a), Growth(b))} |");
            }
        }
    }

    private static void Scale(StringBuilder md, IReadOnlyList<ScenarioResult> all)
    {
        var results = Of(all, ScenarioNames.Scale);
        if (results.Count == 0)
        {
            return;
        }

        Table(md, "Scale", "Idle connections spread over loopback source addresses and over load-client processes; a process may hold at most its open-file limit of sockets, so the connections are spread over as many connection-holding processes as that takes, and a single-process system gets as many as one process holds. Memory is resident memory after the connections, less before, once the servers' CPU is quiet. A broadcast goes to the whole namespace from one more connection; reach time: until the last connection had it (median of the broadcasts).", ["system", "connections (connection-holding processes)", "connections/s", "KiB per idle connection, connection-holding processes", "all server processes", "broadcast reached", "reach time (ms)", "broadcast p50 / p99 (ms)", "failed"]);
        foreach (var result in results)
        {
            if (result.Scale is not { } sc || sc.Median is not { } b)
            {
                Failed(md, result);
                continue;
            }

            md.AppendLine(CultureInfo.InvariantCulture,
                $"| `{result.System}` | {sc.Open:N0} ({sc.EdgeProcesses}) | {sc.ConnectionsPerSecond:N0} | {sc.EdgeBytesPerConnection / 1024:0.0} | {sc.ServerBytesPerConnection / 1024:0.0} | {b.Reached:N0} of {b.Open:N0} | {b.MaxMicros / 1000.0:0} | {b.P50Micros / 1000.0:0} / {b.P99Micros / 1000.0:0} | {sc.Failed} |");
        }

        Incidents(md, results);
        var pairs = Pairs(results).Where(p => p.Ours.Scale?.Median is not null && p.Other.Scale?.Median is not null).ToList();
        if (pairs.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Ratios, this project ÷ the other (connections/s: higher is better; memory and reach time: lower is better; the connection counts may differ):");
            md.AppendLine();
            md.AppendLine("| | connections/s | memory per idle connection, connection-holding processes | broadcast reach time |");
            md.AppendLine("|---|---:|---:|---:|");
            foreach (var (ours, other) in pairs)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| `{ours.System}` ÷ `{other.System}` | {Ratio(ours.Scale!.ConnectionsPerSecond, other.Scale!.ConnectionsPerSecond)} | {Ratio(ours.Scale.EdgeBytesPerConnection, other.Scale.EdgeBytesPerConnection)} | {Ratio(ours.Scale.Median!.MaxMicros, other.Scale.Median!.MaxMicros)} |");
            }
        }
    }

    private static void Throughput(StringBuilder md, IReadOnlyList<ScenarioResult> all, string scenario, string title)
    {
        var results = Of(all, scenario);
        if (results.Count == 0)
        {
            return;
        }

        var fixedLoad = results.Select(r => r.Phase(ScenarioRunner.FixedLoad)).FirstOrDefault(p => p is not null);
        string[] saturatedColumns = ["system", "delivered msg/s", "server CPU µs per delivery", "server CPU", "load-client CPU", "latency p50 / p99 / p99.9 (ms), saturated"];
        Table(
            md,
            title,
            string.Create(CultureInfo.InvariantCulture, $"{Setup(results)}. Saturated: each sender keeps up to 8 messages in flight.{(fixedLoad is null ? "" : $" Fixed load: {fixedLoad.OfferedPerSecond:N0} deliveries/s offered, latency measured from when each message was due.")}"),
            fixedLoad is null
                ? [.. saturatedColumns, "lost / duplicated / misdelivered"]
                : [.. saturatedColumns, "server CPU µs per delivery, fixed load", "latency p50 / p99 / p99.9 (ms), fixed load", "lost / duplicated / misdelivered"]);
        foreach (var result in results)
        {
            if (result.Error is not null || result.Phase(ScenarioRunner.Saturated) is not { } saturated)
            {
                Failed(md, result);
                continue;
            }

            md.Append(CultureInfo.InvariantCulture, $"| `{result.System}` | {saturated.DeliveredPerSecond:N0} | {saturated.ServerMicrosPerDelivery:0.00} | {saturated.ServerCpuShare:P0} | {saturated.ClientCpuShare:P0} | {Latency(saturated)} |");
            if (fixedLoad is not null)
            {
                var f = result.Phase(ScenarioRunner.FixedLoad);
                md.Append(CultureInfo.InvariantCulture, $" {(f is null ? "" : f.ServerMicrosPerDelivery.ToString("0.00", CultureInfo.InvariantCulture))} | {(f is null ? "" : Latency(f))} |");
            }

            md.AppendLine(CultureInfo.InvariantCulture, $" {Losses(result)} |");
        }

        Incidents(md, results);
        Work(md, results);
        Ratios(md, results, fixedLoad is not null);
    }

    /// <summary>The results of one scenario, in the order they ran.</summary>
    private static List<ScenarioResult> Of(IReadOnlyList<ScenarioResult> all, string scenario) =>
        all.Where(r => r.Scenario == scenario).ToList();

    /// <summary>A scenario's heading, what it measured, and its table's header: the first column is the system, the others are figures.</summary>
    private static void Table(StringBuilder md, string title, string intro, string[] columns)
    {
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"### {title}");
        md.AppendLine();
        md.AppendLine(intro);
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"| {string.Join(" | ", columns)} |");
        md.Append("|---|");
        for (var i = 1; i < columns.Length; i++)
        {
            md.Append("---:|");
        }

        md.AppendLine();
    }

    /// <summary>The row of a system that has no figures for the scenario: not offered, or why it failed.</summary>
    private static void Failed(StringBuilder md, ScenarioResult result) =>
        md.AppendLine(CultureInfo.InvariantCulture, $"| `{result.System}` | {(result.NotOffered is { } why ? $"not offered: {Escape(why)}" : $"failed: {Escape(result.Error)}")} |");

    /// <summary>What one message a client sent cost, in Orleans messages and thread wake-ups, where they were counted.</summary>
    private static void Work(StringBuilder md, List<ScenarioResult> results)
    {
        var counted = results.Where(r => r.Phases.Any(p => p.OrleansMessagesPerSend is not null)).ToList();
        if (counted.Count == 0)
        {
            return;
        }

        md.AppendLine();
        md.AppendLine("Per message a client sent: Orleans messages between nodes and within a process (from the nodes' own metrics), and context switches of all the server processes (from `/proc`; each voluntary one is a thread put to sleep and woken again); per delivery, the bytes the .NET server processes allocated (their `dotnet.gc.heap.total_allocated`):");
        md.AppendLine();
        md.AppendLine("| system | phase | Orleans messages, between nodes | Orleans messages, in-process | context switches | bytes allocated per delivery |");
        md.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var result in results)
        {
            foreach (var phase in result.Phases)
            {
                if (phase.OrleansMessagesPerSend is { } orleans)
                {
                    md.AppendLine(CultureInfo.InvariantCulture, $"| `{result.System}` | {phase.Name} | {orleans.Remote:0.00} | {orleans.Local:0.00} | {phase.ContextSwitchesPerSend:0.0} | {phase.AllocatedBytesPerDelivery:0} |");
                }
                else if (phase.ContextSwitchesPerSend is { } switches)
                {
                    md.AppendLine(CultureInfo.InvariantCulture, $"| `{result.System}` | {phase.Name} | | | {switches:0.0} | {phase.AllocatedBytesPerDelivery:0} |");
                }
            }
        }
    }

    private static void Incidents(StringBuilder md, List<ScenarioResult> results)
    {
        foreach (var result in results.Where(r => r.Incident is not null))
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"**`{result.System}`: {result.Incident}.**");
        }
    }

    private static void Ratios(StringBuilder md, List<ScenarioResult> results, bool withFixedLoad)
    {
        var pairs = Pairs(results).ToList();
        if (pairs.Count == 0)
        {
            return;
        }

        md.AppendLine();
        md.AppendLine("Ratios, this project ÷ the other (msg/s: higher is better; CPU and latency: lower is better):");
        md.AppendLine();
        md.AppendLine(withFixedLoad
            ? "| | delivered msg/s | server CPU per delivery | p99, saturated | server CPU per delivery, fixed load | p50, fixed load | p99, fixed load |\n|---|---:|---:|---:|---:|---:|---:|"
            : "| | delivered msg/s | server CPU per delivery | p99, saturated |\n|---|---:|---:|---:|");
        foreach (var (ours, other) in pairs)
        {
            var a = ours.Phase(ScenarioRunner.Saturated)!;
            var b = other.Phase(ScenarioRunner.Saturated)!;
            md.Append(CultureInfo.InvariantCulture, $"| `{ours.System}` ÷ `{other.System}` | {Ratio(a.DeliveredPerSecond, b.DeliveredPerSecond)} | {Ratio(a.ServerMicrosPerDelivery, b.ServerMicrosPerDelivery)} | {Ratio(a.P99Micros, b.P99Micros)} |");
            if (withFixedLoad)
            {
                var (f, g) = (ours.Phase(ScenarioRunner.FixedLoad), other.Phase(ScenarioRunner.FixedLoad));
                md.Append(CultureInfo.InvariantCulture, $" {Ratio(f?.ServerMicrosPerDelivery, g?.ServerMicrosPerDelivery)} | {Ratio(f?.P50Micros, g?.P50Micros)} | {Ratio(f?.P99Micros, g?.P99Micros)} |");
            }

            md.AppendLine();
        }
    }

    private static void Storm(StringBuilder md, IReadOnlyList<ScenarioResult> all)
    {
        var results = Of(all, ScenarioNames.Storm);
        if (results.Count == 0)
        {
            return;
        }

        Table(md, "Connection storm", $"{Setup(results)}. A connection counts once its handshake is done and one acknowledged round trip is back. Memory is resident memory (RSS) after the connections, less before, once the servers' CPU is quiet.", ["system", "connections/s", "KiB per idle connection, connection-holding processes", "KiB per idle connection, all server processes", "failed"]);
        foreach (var result in results)
        {
            if (result.Storm is not { } storm)
            {
                Failed(md, result);
                continue;
            }

            md.AppendLine(CultureInfo.InvariantCulture, $"| `{result.System}` | {storm.ConnectionsPerSecond:N0} | {storm.EdgeBytesPerConnection / 1024:0.0} | {storm.ServerBytesPerConnection / 1024:0.0} | {storm.Failed} |");
        }

        Incidents(md, results);

        var pairs = Pairs(results).ToList();
        if (pairs.Count == 0)
        {
            return;
        }

        md.AppendLine();
        md.AppendLine("Ratios, this project ÷ the other (connections/s: higher is better; memory: lower is better):");
        md.AppendLine();
        md.AppendLine("| | connections/s | memory per connection, connection-holding processes | memory per connection, all server processes |");
        md.AppendLine("|---|---:|---:|---:|");
        foreach (var (ours, other) in pairs)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| `{ours.System}` ÷ `{other.System}` | {Ratio(ours.Storm!.ConnectionsPerSecond, other.Storm!.ConnectionsPerSecond)} | {Ratio(ours.Storm.EdgeBytesPerConnection, other.Storm.EdgeBytesPerConnection)} | {Ratio(ours.Storm.ServerBytesPerConnection, other.Storm.ServerBytesPerConnection)} |");
        }
    }

    /// <summary>Each of this project's systems against each of the others, where both finished.</summary>
    private static IEnumerable<(ScenarioResult Ours, ScenarioResult Other)> Pairs(List<ScenarioResult> results)
    {
        var finished = results.Where(r => r.Error is null).ToList();
        return from ours in finished
               where SystemKind.Named(ours.System).IsOurs
               from other in finished
               where !SystemKind.Named(other.System).IsOurs
               select (ours, other);
    }

    private static string Setup(List<ScenarioResult> results) => results.FirstOrDefault(r => r.Setup.Length > 0)?.Setup ?? "";

    private static string Latency(PhaseResult phase) =>
        string.Create(CultureInfo.InvariantCulture, $"{phase.P50Micros / 1000.0:0.0} / {phase.P99Micros / 1000.0:0.0} / {phase.P999Micros / 1000.0:0.0}");

    private static string Losses(ScenarioResult result) =>
        result.Lost == 0 && result.Duplicated == 0 && result.Unexpected == 0
            ? string.Create(CultureInfo.InvariantCulture, $"none of {result.Sent:N0} sent")
            : string.Create(CultureInfo.InvariantCulture, $"**{result.Lost:N0} / {result.Duplicated:N0} / {result.Unexpected:N0}** of {result.Sent:N0} sent");

    private static string Ratio(double? ours, double? other) =>
        ours is { } a && other is { } b && b > 0 && !double.IsNaN(a) && !double.IsNaN(b)
            ? string.Create(CultureInfo.InvariantCulture, $"{a / b:0.00}×")
            : "–";

    private static string Escape(string? text) => (text ?? "").Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}

/// <summary>What a run was: when, where, how it was started, with which options.</summary>
public sealed record RunInfo(DateTime Date, string Machine, string Command, BenchOptions Options);
