using System.Text.Json;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Cluster;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Bench;

/// <summary>
/// The benchmark harness in its quickest mode against the embedded node, as a separate process, so that it cannot
/// rot: every scenario finishes, no message is lost or duplicated, and the results files are written; and its churn
/// on a cluster, whose silo it kills midway. The numbers
/// themselves are not asserted; the real benchmark is not part of the test run.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class BenchSmokeTests
{
    [Fact]
    public async Task QuickRunAgainstTheEmbeddedNode_FinishesEveryScenarioCleanly_AndWritesTheResults()
    {
        var output = Directory.CreateTempSubdirectory("bench-smoke").FullName;
        try
        {
            var bench = NodeProcess.Start("bench", "dotnet", [Build.Output("Bench", "Realtime.Bench.dll"), "--quick", "--systems", "embedded", "--out", output], 0);
            await using (bench)
            {
                var exitCode = await bench.WaitForExitCodeAsync(TimeSpan.FromMinutes(6));
                Assert.True(exitCode == 0, $"The harness exited with {exitCode}:{Environment.NewLine}{bench.Output}");
            }

            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "results.json")));
            var results = json.RootElement.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal(["storm", "fanout", "broadcast", "rooms", "fanout-small", "fanout-small-js", "cold", "soak", "recovery", "flood", "churn", "scale"], results.Select(r => r.GetProperty("scenario").GetString()));
            foreach (var result in results)
            {
                Assert.Equal("embedded", result.GetProperty("system").GetString());
                Assert.Equal(JsonValueKind.Null, result.GetProperty("error").ValueKind);
                Assert.Equal(0, result.GetProperty("lost").GetInt64());
                Assert.Equal(0, result.GetProperty("duplicated").GetInt64());
            }

            // Every throughput scenario delivered messages in its window, and the fan-out measured its fixed load too.
            string[] withoutPhases = ["storm", "cold", "recovery", "churn", "scale"];
            foreach (var result in results.Where(r => !withoutPhases.Contains(r.GetProperty("scenario").GetString())))
            {
                var phases = result.GetProperty("phases").EnumerateArray().ToList();
                Assert.All(phases, p => Assert.True(p.GetProperty("delivered").GetInt64() > 0));
                Assert.True(p99(phases[^1]) > 0);
            }

            foreach (var fixedLoad in new[] { "fanout", "fanout-small", "fanout-small-js" })
            {
                Assert.Equal(2, results.Single(r => r.GetProperty("scenario").GetString() == fixedLoad).GetProperty("phases").GetArrayLength());
            }

            Assert.True(results[0].GetProperty("storm").GetProperty("connectionsPerSecond").GetDouble() > 0);
            JsonElement Of(string scenario, string part) => results.Single(r => r.GetProperty("scenario").GetString() == scenario).GetProperty(part);
            var cold = Of("cold", "cold").GetProperty("microsPerDelivery").EnumerateArray().ToList();
            Assert.NotEmpty(cold);
            Assert.All(cold, slice => Assert.True(slice.GetDouble() > 0, "every slice of the cold start delivered and cost something"));
            var recovery = Of("recovery", "recovery");
            Assert.True(recovery.GetProperty("recoverers").GetInt32() > 0);
            Assert.Equal(0, recovery.GetProperty("notRecovered").GetInt32());
            Assert.Equal(2, Of("flood", "phases").GetArrayLength());
            var churn = Of("churn", "churn");
            Assert.True(churn.GetProperty("acknowledged").GetInt64() > 0 && churn.GetProperty("cycles").GetInt64() > 0);
            Assert.True(churn.GetProperty("memory").GetArrayLength() > 5);
            var scale = Of("scale", "scale");
            Assert.All(scale.GetProperty("broadcasts").EnumerateArray(), b => Assert.Equal(b.GetProperty("open").GetInt32(), b.GetProperty("reached").GetInt32()));

            var markdown = await File.ReadAllTextAsync(Path.Combine(output, "results.md"));
            Assert.Contains("### Room fan-out", markdown, StringComparison.Ordinal);
            Assert.Contains("### Small-room fan-out, JavaScript clients", markdown, StringComparison.Ordinal);
            Assert.Contains("### Connection storm", markdown, StringComparison.Ordinal);
            Assert.Contains("### Churn", markdown, StringComparison.Ordinal);
            Assert.Contains("### Scale", markdown, StringComparison.Ordinal);
            Assert.StartsWith("<svg", await File.ReadAllTextAsync(Path.Combine(output, "results.svg")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }

        static long p99(JsonElement phase) => phase.GetProperty("p99Micros").GetInt64();
    }

    [Fact]
    public async Task QuickChurnOnTheCluster_KillsASiloMidway_AndLosesNothingThatWasAcknowledged()
    {
        var output = Directory.CreateTempSubdirectory("bench-smoke-cluster").FullName;
        try
        {
            var bench = NodeProcess.Start("bench", "dotnet", [Build.Output("Bench", "Realtime.Bench.dll"), "--quick", "--systems", "cluster-silos", "--scenarios", "churn", "--out", output], 0);
            await using (bench)
            {
                var exitCode = await bench.WaitForExitCodeAsync(TimeSpan.FromMinutes(4));
                Assert.True(exitCode == 0, $"The harness exited with {exitCode}:{Environment.NewLine}{bench.Output}");
            }

            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "results.json")));
            var result = Assert.Single(json.RootElement.GetProperty("results").EnumerateArray());
            Assert.Equal(JsonValueKind.Null, result.GetProperty("error").ValueKind);
            var churn = result.GetProperty("churn");
            Assert.Equal(JsonValueKind.String, churn.GetProperty("killedSilo").ValueKind);
            Assert.True(churn.GetProperty("acknowledged").GetInt64() > 0, "sends were acknowledged");
            Assert.Equal(0, result.GetProperty("lost").GetInt64());
            Assert.Equal(0, result.GetProperty("duplicated").GetInt64());
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
