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
        md.AppendLine(CultureInfo.InvariantCulture, $"Command: `{run.Command}` ({(run.Options.Quick ? "quick mode, " : "")}{run.Options.Seconds:0.#} s windows after {run.Options.WarmupSeconds:0.#} s of warm-up, {run.Options.MessageSize}-character messages).");
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
        Storm(md, results);
        return md.ToString();
    }

    private static void Throughput(StringBuilder md, IReadOnlyList<ScenarioResult> all, string scenario, string title)
    {
        var results = all.Where(r => r.Scenario == scenario).ToList();
        if (results.Count == 0)
        {
            return;
        }

        var fixedLoad = results.Select(r => r.Phase(ScenarioRunner.FixedLoad)).FirstOrDefault(p => p is not null);
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"### {title}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{Setup(results)}. Saturated: each sender keeps up to 8 messages in flight.{(fixedLoad is null ? "" : $" Fixed load: {fixedLoad.OfferedPerSecond:N0} deliveries/s offered, latency measured from when each message was due.")}");
        md.AppendLine();
        md.Append("| system | delivered msg/s | server CPU µs per delivery | server CPU | load-client CPU | latency p50 / p99 / p99.9 (ms), saturated |");
        md.AppendLine(fixedLoad is null ? " lost / duplicated / misdelivered |" : " server CPU µs per delivery, fixed load | latency p50 / p99 / p99.9 (ms), fixed load | lost / duplicated / misdelivered |");
        md.AppendLine(fixedLoad is null ? "|---|---:|---:|---:|---:|---:|---:|" : "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var result in results)
        {
            if (result.Error is not null || result.Phase(ScenarioRunner.Saturated) is not { } saturated)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| `{result.System}` | failed: {Escape(result.Error)} |");
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
        Ratios(md, results, fixedLoad is not null);
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
        var results = all.Where(r => r.Scenario == ScenarioNames.Storm).ToList();
        if (results.Count == 0)
        {
            return;
        }

        md.AppendLine();
        md.AppendLine("### Connection storm");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{Setup(results)}. A connection counts once its handshake is done and one acknowledged round trip is back. Memory is resident memory (RSS) after the connections, less before, once the servers' CPU is quiet.");
        md.AppendLine();
        md.AppendLine("| system | connections/s | KiB per idle connection, connection-holding processes | KiB per idle connection, all server processes | failed |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var result in results)
        {
            if (result.Storm is not { } storm)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| `{result.System}` | failed: {Escape(result.Error)} |");
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
