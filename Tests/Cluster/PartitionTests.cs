using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// A gateway cut off from one silo only (a TCP proxy between them that stops carrying bytes): calls that need the
/// link fail within the response timeout with the cluster's error, everything else goes on, and once the link heals
/// no member is lost.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PartitionTests
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task GatewayCutOffFromOneSilo_CallsFailFastOrSucceed_AndWhenItHealsNoMemberIsLost()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 2, gateways: 0);
        await using var proxy = new PartitionProxy(cluster.Silos[1].GatewayPort);
        await using var healthy = await TestGateway.StartAsync([.. cluster.ClusterArguments(), "--Gateway:Mode=Cluster", "--Gateway:Name=healthy"]);

        // The other gateway finds the silos through a fixed list, one of them behind the proxy.
        string[] cut =
        [
            .. cluster.ClusterArguments().Where(s => !s.StartsWith("--Cluster:Redis=", StringComparison.Ordinal)),
            $"--Cluster:Silos:0=127.0.0.1:{cluster.Silos[0].GatewayPort}", $"--Cluster:Silos:1=127.0.0.1:{proxy.Port}",
            "--Gateway:Mode=Cluster", "--Gateway:Name=cut",
        ];
        await using var partitioned = await TestGateway.StartAsync(cut);
        var rooms = Enumerable.Range(0, 4).Select(i => $"room{i}").ToArray();
        await using var near = await healthy.ConnectAsync("near");
        await using var far = await partitioned.ConnectAsync("far");
        foreach (var room in rooms)
        {
            await near.InvokeAsync("Join", room);
            await far.InvokeAsync("Join", room);
        }

        proxy.Cut();

        // Every call from the cut gateway ends within the response timeout (5 s here): done, or the cluster's error.
        var (succeeded, failed) = (0, 0);
        foreach (var room in rooms)
        {
            var started = DateTime.UtcNow;
            try
            {
                await far.InvokeAsync("SendToRoom", room, "during", "the cut");
                succeeded++;
            }
            catch (HubErrorException ex)
            {
                failed++;
                Assert.Contains("The cluster could not complete SendToRoom right now; try again.", ex.Message);
            }

            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8), $"SendToRoom {room} took {(DateTime.UtcNow - started).TotalSeconds:0.#} s");
        }

        // The healthy gateway goes on meanwhile, for every room.
        foreach (var room in rooms)
        {
            await near.InvokeAsync("SendToRoom", room, "healthy", room);
        }

        await near.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "healthy", rooms.Length);

        proxy.Heal();

        // Healed: every room still has both members, and delivers to both.
        await Eventually.TrueAsync(
            async () =>
            {
                foreach (var room in rooms)
                {
                    if ((await near.InvokeAsync<Presence[]>("Presence", room)).Length != 2)
                    {
                        return false;
                    }
                }

                return true;
            },
            "every room to keep both members",
            Recovery);
        foreach (var room in rooms)
        {
            await near.InvokeAsync("SendToRoom", room, "after", room);
        }

        await far.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "after", rooms.Length, Recovery);
        Assert.False(far.Closed.IsCompleted, "the cut gateway's client stayed connected");
        Assert.True(succeeded + failed == rooms.Length);
    }

    private sealed record Presence(string ConnectionId, string? UserId, string GatewayId);
}
