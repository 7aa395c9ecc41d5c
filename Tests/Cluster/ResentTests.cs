using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;
using Xunit.Abstractions;

namespace Realtime.Tests.Cluster;

/// <summary>
/// A room's grain (or a hub's, for a send to the whole hub) answers a send once it has handed its deliveries to
/// Orleans, without waiting for them to arrive. When its node dies with a delivery still on its way to another gateway,
/// the sender has its success, and only the sender's gateway still knows the message: it keeps it, and the grain's next
/// activation sends it again to the gateway that missed it. Here the way to that gateway is cut (each node in a network
/// namespace of its own, packets dropped) while the sends go on, so that every delivery to it is still in flight when
/// the grain's node is killed.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ResentTests(ITestOutputHelper output)
{
    private const string Room = "stream";

    [Fact]
    public async Task RoomsNodeKilledWithDeliveriesInFlightToAGateway_TheRoomComesBackAndSendsThemAgain_EverySendThatReportedSuccessArrivesInOrder()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 0, gateways: 3, isolated: true);
        var members = new List<SignalRTestClient>();
        try
        {
            foreach (var gateway in cluster.Gateways)
            {
                var member = await cluster.ConnectAsync(gateway, $"member-{gateway.Name}");
                members.Add(member);
                await member.InvokeAsync("Join", Room);
            }

            var host = await cluster.NodeHoldingAsync(TestCluster.RoomGrain(Room));
            Assert.NotNull(host);
            var (senderAt, cutOff) = (cluster.Gateways.First(g => g != host), cluster.Gateways.Last(g => g != host));
            await using var sender = await cluster.ConnectAsync(senderAt, "sender");
            var (near, far) = (members.Single(m => m.Name == $"member-{senderAt.Name}"), members.Single(m => m.Name == $"member-{cutOff.Name}"));

            var sent = await SendThroughACutAndAKillAsync(
                host, cutOff, n => sender.InvokeAsync("SendToRoom", Room, "n", n), () => Numbers(near).Count, () => Numbers(far).Count);

            Assert.Equal(sent, Numbers(far));
            Assert.Equal(sent, Numbers(near));
            Assert.False(far.Closed.IsCompleted, $"{far.Name} was disconnected");
            Assert.Empty(far.ReceivedOn("missed"));

            // The far gateway counts what it was sent again; the sender's gateway still keeps what it sent (for 10 s).
            var farMetrics = await PrometheusText.ScrapeAsync(new Uri($"http://{cutOff.Host}:{cutOff.Port}"));
            Assert.True(farMetrics.Sum("realtime_gateway_resent_total", "target=room") >= 17, $"{cutOff.Name} counted {farMetrics.Sum("realtime_gateway_resent_total", "target=room")} sent again");
            var senderMetrics = await PrometheusText.ScrapeAsync(new Uri($"http://{senderAt.Host}:{senderAt.Port}"));
            Assert.True(senderMetrics.Sum("realtime_gateway_sends_kept") > 0, $"{senderAt.Name} keeps {senderMetrics.Sum("realtime_gateway_sends_kept")} sends");
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task HubsNodeKilledWithASendToTheWholeHubInFlightToAGateway_ItComesBackAndSendsThemAgain_EverySendThatReportedSuccessArrivesInOrder()
    {
        // An application's own hub, whose IHubContext sends to all its clients (Clients.All) through the hub's grain.
        await using var cluster = await TestCluster.StartAsync(silos: 0, gateways: 3, gatewayProgram: TestCluster.ExistingApp, isolated: true);
        var members = new List<SignalRTestClient>();
        try
        {
            foreach (var gateway in cluster.Gateways)
            {
                members.Add(await SignalRTestClient.ConnectAsync(new Uri($"http://{gateway.Host}:{gateway.Port}/chat"), $"member-{gateway.Name}", methods: ["announcement"]));
            }

            var host = await cluster.NodeHoldingAsync("hub/ChatHub");
            Assert.NotNull(host);
            var (senderAt, cutOff) = (cluster.Gateways.First(g => g != host), cluster.Gateways.Last(g => g != host));
            var (near, far) = (members.Single(m => m.Name == $"member-{senderAt.Name}"), members.Single(m => m.Name == $"member-{cutOff.Name}"));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

            var sent = await SendThroughACutAndAKillAsync(
                host,
                cutOff,
                async n =>
                {
                    using var answer = await http.PostAsync($"http://{senderAt.Host}:{senderAt.Port}/announce?text={n}", null);
                    Assert.True(answer.IsSuccessStatusCode, $"announcement {n}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
                },
                () => Announced(near).Count,
                () => Announced(far).Count);

            Assert.Equal(sent, Announced(far));
            Assert.Equal(sent, Announced(near));
            Assert.False(far.Closed.IsCompleted, $"{far.Name} was disconnected");
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Sends 3 messages, then cuts <paramref name="cutOff"/> from <paramref name="host"/> (the grain's node), sends 17
    /// more (each reporting success), and kills the host; returns what was sent once the far gateway has it all.
    /// </summary>
    private async Task<List<int>> SendThroughACutAndAKillAsync(NodeProcess host, NodeProcess cutOff, Func<int, Task> send, Func<int> nearCount, Func<int> farCount)
    {
        var sent = new List<int>();
        for (var n = 1; n <= 3; n++)
        {
            await send(n).Within("a send before the cut");
            sent.Add(n);
        }

        await Eventually.True(() => farCount() == 3, $"{cutOff.Name} to get the sends before the cut");

        // The grain's node no longer reaches the far gateway; the sends go on, and each reports success. The link stays
        // cut to the end: what the killed node's kernel still holds for the far gateway never gets there.
        TestCluster.Cut(cutOff, host);
        try
        {
            for (var n = 4; n <= 20; n++)
            {
                await send(n).Within("a send during the cut");
                sent.Add(n);
            }

            await Eventually.True(() => nearCount() == 20, "the sender's gateway to get every send");
            output.WriteLine($"{cutOff.Name} had {farCount()} of {sent.Count} when {host.Name}, the grain's node, was killed");
            host.Kill();

            // Nobody sends again: the gateway that kept the sends calls the grain once the cluster declares its node dead.
            await Eventually.True(() => farCount() >= sent.Count, $"{cutOff.Name} to get every send that reported success ({sent.Count})", TimeSpan.FromSeconds(30));
        }
        finally
        {
            TestCluster.Heal(cutOff);
        }

        return sent;
    }

    private static List<int> Numbers(SignalRTestClient member) =>
        [.. member.ReceivedOn("event").Where(e => e.Arguments[0].GetProperty("room").GetString() == Room).Select(e => e.Arguments[0].GetProperty("data").GetInt32())];

    private static List<int> Announced(SignalRTestClient member) => [.. member.ReceivedOn("announcement").Select(e => int.Parse(e.Arguments[0].GetString()!, System.Globalization.CultureInfo.InvariantCulture))];
}
