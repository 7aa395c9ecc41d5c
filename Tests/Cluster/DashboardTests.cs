using System.Text.Json;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// The Orleans Dashboard on a cluster of two silos without connections and a gateway (which is a silo too): with
/// <c>Cluster:Dashboard</c> on every node, its page shows the calls of the room grains wherever they run; a node
/// without it is named in an error instead of leaving the page silently empty.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DashboardTests
{
    [Fact]
    public async Task OnEveryNode_TheDashboardShowsTheRoomsCalls()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 0, gateways: 0);
        var silo = await cluster.StartSiloAsync("--Cluster:Dashboard=true");
        var other = await cluster.StartSiloAsync("--Cluster:Dashboard=true");
        var gateway = await cluster.StartGatewayAsync("--Cluster:Dashboard=true");
        await using var client = await cluster.ConnectAsync(gateway, "sender");
        await client.InvokeAsync("Join", "watched");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{silo.Port}/dashboard/"), Timeout = TimeSpan.FromSeconds(10) };

        var sent = 0;
        await Eventually.TrueAsync(
            async () =>
            {
                await client.InvokeAsync("SendToRoom", "watched", "tick", ++sent);
                using var top = JsonDocument.Parse(await http.GetStringAsync("TopGrainMethods"));
                return top.RootElement.GetProperty("calls").EnumerateArray().Any(m =>
                    m.GetProperty("grain").GetString()!.Contains("RoomGrain", StringComparison.Ordinal) && m.GetProperty("count").GetDouble() > 0);
            },
            "the dashboard to count the room grain's calls",
            TimeSpan.FromSeconds(30));

        foreach (var node in new[] { silo, other, gateway })
        {
            Assert.DoesNotContain("ISiloGrainService", node.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("runs without the Orleans Dashboard", node.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ANodeWithoutIt_IsNamedInAnError()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 0, gateways: 0);
        var silo = await cluster.StartSiloAsync("--Cluster:Dashboard=true");
        var gateway = await cluster.StartGatewayAsync("--Gateway:Name=plain");

        await Eventually.True(
            () => silo.Output.Contains("runs without the Orleans Dashboard's services", StringComparison.Ordinal), "the silo to name the gateway without the dashboard", TimeSpan.FromSeconds(30));
        Assert.Contains(gateway.SiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture), silo.Output, StringComparison.Ordinal);
    }
}
