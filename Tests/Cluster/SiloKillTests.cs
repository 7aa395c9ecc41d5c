using System.Text.Json;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// <c>kill -9</c> of the silo that holds a room, tried as a new user would: two silos, two gateways behind nginx
/// round robin, a numbered stream of sends to rooms with members on both gateways.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SiloKillTests
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task KillTheRoomsSilo_EverySendThatSucceeded_ReachedEveryMemberOnBothGateways_InOrder()
    {
        await using var cluster = await TestCluster.StartAsync();
        await using var nginx = await Nginx.StartAsync(cluster.Gateways);
        var balancer = new Uri($"ws://127.0.0.1:{nginx.Port}/realtime");
        var rooms = Enumerable.Range(0, 6).Select(i => $"stream{i}").ToArray();
        var members = new List<SignalRTestClient>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                members.Add(await SignalRTestClient.ConnectAsync(balancer, $"member{i}"));
            }

            foreach (var member in members)
            {
                foreach (var room in rooms)
                {
                    await member.InvokeAsync("Join", room);
                }
            }

            var presence = await members[0].InvokeAsync<JsonElement[]>("Presence", rooms[0]);
            Assert.Equal(2, presence.Select(p => p.GetProperty("gatewayId").GetString()).Distinct().Count()); // members on both gateways
            await using var sender = await SignalRTestClient.ConnectAsync(balancer, "sender");

            // The silo that holds the first room dies; the other rooms may live on either silo.
            var doomed = await SiloOfAsync(cluster, rooms[0]);
            var succeeded = new List<(string Room, int N)>();
            var n = 0;
            async Task SendAsync()
            {
                var room = rooms[n % rooms.Length];
                try
                {
                    await sender.InvokeAsync("SendToRoom", room, "n", n).Within("a send");
                    succeeded.Add((room, n));
                }
                catch (HubErrorException ex)
                {
                    // While the cluster finds out, a send may fail: it must say so, not report success.
                    Assert.Contains("The cluster could not complete SendToRoom", ex.Message);
                }

                n++;
            }

            for (var i = 0; i < 30; i++)
            {
                await SendAsync();
            }

            doomed.Kill();

            // Keep sending through the failure and past the recovery: until every room has taken 20 more sends.
            var afterKill = succeeded.Count;
            await Eventually.True(
                () =>
                {
                    SendAsync().GetAwaiter().GetResult();
                    return rooms.All(room => succeeded.Skip(afterKill).Count(s => s.Room == room) >= 20);
                },
                "every room takes sends again after the kill",
                Recovery + Recovery);

            foreach (var member in members)
            {
                Assert.False(member.Closed.IsCompleted, $"{member.Name} was disconnected");
                foreach (var room in rooms)
                {
                    var expected = succeeded.Where(s => s.Room == room).Select(s => s.N).ToArray();
                    await Eventually.True(
                        () => expected.All(Received(member, room).Contains),
                        $"{member.Name} holds every send to {room} that returned success ({expected.Length})");
                    var received = Received(member, room);
                    Assert.True(received.SequenceEqual(received.Order()), $"{member.Name} got {room}'s messages in order: {string.Join(",", received)}");
                }
            }
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    private static int[] Received(SignalRTestClient member, string room) =>
        member.ReceivedOn("event")
            .Where(e => e.Arguments[0].GetProperty("room").GetString() == room)
            .Select(e => e.Arguments[0].GetProperty("data").GetInt32())
            .ToArray();

    /// <summary>The silo process that holds a room of the default namespace now.</summary>
    private static async Task<NodeProcess> SiloOfAsync(TestCluster cluster, string room)
    {
        using var answer = JsonDocument.Parse(await TestCluster.GetAsync(cluster.Silos[0], $"/stats/grain?id={Uri.EscapeDataString($"room/RealtimeHub//{room}")}"));
        var silo = answer.RootElement.GetProperty("silo").GetString();
        foreach (var candidate in cluster.Silos)
        {
            using var stats = JsonDocument.Parse(await TestCluster.GetAsync(candidate, "/stats"));
            if (stats.RootElement.GetProperty("node").GetString() == silo)
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"No silo process holds {room} (the cluster says {silo ?? "none"}).");
    }
}
