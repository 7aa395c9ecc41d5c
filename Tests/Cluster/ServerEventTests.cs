using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Client.Operations;
using Realtime.Gateway.Cluster;
using Realtime.Gateway.Hosting;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// Server-to-server events (socket.io's serverSideEmit) through the cluster: two gateways hosted in this test process
/// join a cluster of silo processes, and a service process or one gateway sends.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ServerEventTests
{
    [Fact]
    public async Task ServerEmit_FromAServiceAndFromAGateway_ReachesEveryOtherGatewayOnce()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 2, gateways: 0);
        await using var gatewayA = await TestGateway.StartAsync([.. cluster.GatewayArguments("gwA")]);
        await using var gatewayB = await TestGateway.StartAsync([.. cluster.GatewayArguments("gwB")]);
        var heardByA = Listen(gatewayA);
        var heardByB = Listen(gatewayB);

        // Both gateways register with the hub grain at start, before any connection.
        await Eventually.TrueAsync(async () => await TrySendAsync(cluster, "from-service") && Got(heardByA, "from-service") && Got(heardByB, "from-service"), "the service's event reaches both gateways", TimeSpan.FromSeconds(30));

        var sent = await gatewayA.Services.GetRequiredService<IRealtimeCluster>().ServerEmitAsync("from-a", new { n = 1 }).Within("a gateway's server emit");
        await Eventually.True(() => Got(heardByB, "from-a"), "gateway B hears gateway A");
        Assert.Equal(1, sent);

        // A gateway never hears its own event; a later event proves A's handler was listening all along.
        Assert.True(await TrySendAsync(cluster, "last").Within("the service's last event"));
        await Eventually.True(() => Got(heardByA, "last") && Got(heardByB, "last"), "both gateways hear the last event");
        Assert.False(Got(heardByA, "from-a"));
        Assert.Equal(1, heardByB.Count(e => e.Name == "from-a"));
        Assert.Equal(1, heardByB.Count(e => e.Name == "last"));
    }

    private static ConcurrentQueue<ServerEvent> Listen(TestGateway gateway)
    {
        var heard = new ConcurrentQueue<ServerEvent>();
        foreach (var name in new[] { "from-service", "from-a", "last" })
        {
            gateway.Services.GetRequiredService<IServerEvents>().On(name, e =>
            {
                heard.Enqueue(e);
                return Task.CompletedTask;
            });
        }

        return heard;
    }

    private static bool Got(ConcurrentQueue<ServerEvent> heard, string name) => heard.Any(e => e.Name == name);

    private static async Task<bool> TrySendAsync(TestCluster cluster, string name) =>
        (await cluster.RunServiceAsync("server-emit", name, """{"ok":true}""")).ExitCode == 0;
}
