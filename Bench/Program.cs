using System.Diagnostics;
using System.Text.Json;
using Realtime.Bench;
using Realtime.Bench.Clients;
using Realtime.Bench.Measure;
using Realtime.Bench.Report;
using Realtime.Bench.Scenarios;
using Realtime.Bench.Servers;
using Realtime.Bench.Systems;

// The same program is the harness and two of the servers it starts.
switch (args.FirstOrDefault())
{
    case "serve-signalr":
        await PlainSignalRServer.Build(args[1..]).RunAsync();
        return 0;
    case "serve-gateway":
        await SocketIOGateway.Build(args[1..]).RunAsync();
        return 0;
    case "idle-worker":
        return await IdleWorker.RunAsync(Console.In, Console.Out);
    case "replot":
        // Redraws results.svg from a directory's results.json, after a change to the plot.
        var directory = Path.GetFullPath(args.Length > 1 ? args[1] : Path.Combine("Bench", "results"), BuildOutput.Find().RepositoryRoot);
        var recorded = JsonSerializer.Deserialize<RecordedRun>(await File.ReadAllTextAsync(Path.Combine(directory, "results.json")), JsonOptions.Indented)!;
        await File.WriteAllTextAsync(Path.Combine(directory, "results.svg"), SvgPlot.Write(recorded.Results.Select(r => r.System).Distinct().ToList(), recorded.Results));
        return 0;
}

BenchOptions options;
try
{
    if (args.Contains("--help"))
    {
        Console.WriteLine(BenchOptions.Usage);
        return 0;
    }

    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

BuildOutput.ServersRoot = options.ServersFrom;
var build = BuildOutput.Find();
// A relative directory is taken from the repository root: `dotnet run --project Bench` runs in the project's directory.
var output = Path.GetFullPath(options.OutputDirectory ?? Path.Combine("Bench", "results"), build.RepositoryRoot);
Directory.CreateDirectory(output);
var clock = Stopwatch.StartNew();
void Log(string line) => Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}");

var run = new RunInfo(DateTime.UtcNow, ProcessStats.Machine(), "dotnet run -c Release --project Bench --" + (args.Length == 0 ? "" : " " + string.Join(' ', args)), options);
Log($"{run.Machine}; systems: {string.Join(", ", options.Systems.Select(s => s.Name))}; scenarios: {string.Join(", ", options.Scenarios)}");

var results = new List<ScenarioResult>();
using var factory = new ConnectionFactory(options.SourceAddresses);
foreach (var kind in options.Systems)
{
    Log($"{kind.Name}: starting {kind.Title}");
    SystemUnderTest system;
    try
    {
        system = await SystemUnderTest.StartAsync(kind, build);
    }
    catch (Exception ex)
    {
        Log($"{kind.Name}: could not start: {ex.Message}");
        results.AddRange(options.Scenarios.Select(s => new ScenarioResult(kind.Name, s, "", 0, [], 0, 0, 0, 0, null, "could not start: " + ex.Message)));
        continue;
    }

    await using (system)
    {
        var runner = new ScenarioRunner(options, system, factory, Log);
        foreach (var scenario in options.Scenarios)
        {
            var result = await runner.RunAsync(scenario);
            results.Add(result);
            if (!result.Clean)
            {
                Log($"{kind.Name}: the servers' last output:{Environment.NewLine}{system.Output}");
            }
        }
    }
}

var markdown = MarkdownReport.Write(run, results);
await File.WriteAllTextAsync(Path.Combine(output, "results.md"), markdown);
await File.WriteAllTextAsync(Path.Combine(output, "results.svg"), SvgPlot.Write(options.Systems.Select(s => s.Name).ToList(), results));
if (results.Any(r => r.Churn is not null || r.Scale is not null || r.Flood is not null))
{
    await File.WriteAllTextAsync(Path.Combine(output, "churn.svg"), ReliabilityPlot.Write(options.Systems.Select(s => s.Name).ToList(), results));
}
await File.WriteAllTextAsync(Path.Combine(output, "results.json"), JsonSerializer.Serialize(new { run.Date, run.Machine, run.Command, results }, JsonOptions.Indented));
Console.WriteLine();
Console.WriteLine(markdown);
Log($"results in {output} (results.md, results.svg, results.json)");

var failed = results.Where(r => !r.Clean).ToList();
foreach (var result in failed)
{
    Console.Error.WriteLine($"{result.System} / {result.Scenario}: {result.Error ?? $"lost {result.Lost}, duplicated {result.Duplicated}, misdelivered {result.Unexpected}"}");
}

return failed.Count == 0 ? 0 : 1;

/// <summary>What results.json holds, read back.</summary>
internal sealed record RecordedRun(DateTime Date, string Machine, string Command, IReadOnlyList<ScenarioResult> Results);

/// <summary>How results.json is written.</summary>
internal static class JsonOptions
{
    public static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
}
