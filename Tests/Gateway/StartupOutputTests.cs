using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Gateway;

/// <summary>
/// What an operator sees when a node starts with the shipped settings: no warning that is not true of it (Orleans'
/// watchdog measuring from the machine's boot, the note on server GC), no line per placement attempt from Polly, and
/// "Now listening on" in plain sight.
/// </summary>
[Collection(Cluster.ClusterCollection.Name)]
public sealed class StartupOutputTests
{
    [Fact]
    public async Task TheEmbeddedGateway_StartsWithoutWarningsOrNoise()
    {
        var port = NodeProcess.FreePort();
        await using var gateway = NodeProcess.Start("gateway", "dotnet", [Build.Output("Gateway.Host", "Realtime.Gateway.Host.dll"), $"--Urls=http://127.0.0.1:{port}"], port);

        await AssertQuietStartAsync(gateway);
    }

    [Fact]
    public async Task ASilo_StartsWithoutWarningsOrNoise()
    {
        var redisPort = NodeProcess.FreePort();
        await using var redis = NodeProcess.StartRedis(redisPort);
        await Eventually.True(() => NodeProcess.CanConnect(redisPort), "Redis to listen");
        var httpPort = NodeProcess.FreePort();
        await using var silo = NodeProcess.Start("silo", "dotnet", [
            Build.Output("Silo", "Realtime.Silo.dll"), $"--Cluster:Redis=127.0.0.1:{redisPort}", $"--Cluster:ClusterId=quiet-{Guid.NewGuid():N}",
            $"--Cluster:SiloPort={NodeProcess.FreePort()}", $"--Cluster:GatewayPort={NodeProcess.FreePort()}", $"--Silo:HttpPort={httpPort}"], httpPort);

        await AssertQuietStartAsync(silo);
    }

    private static async Task AssertQuietStartAsync(NodeProcess node)
    {
        await Eventually.True(() => node.Output.Contains("Application started", StringComparison.Ordinal) || node.HasExited, $"{node.Name} to start", TimeSpan.FromSeconds(60));
        var lines = node.Output.Split('\n');
        Assert.Contains(lines, line => line.Contains("Now listening on", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.StartsWith("warn:", StringComparison.Ordinal) || line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.Contains("Polly", StringComparison.Ordinal));
        Assert.True(lines.Length < 40, $"{node.Name} wrote {lines.Length} lines while it started:\n{node.Output}");
    }
}
