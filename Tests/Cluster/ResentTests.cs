using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;
using Xunit.Abstractions;

namespace Realtime.Tests.Cluster;

/// <summary>
/// A room's grain answers a send once it has handed its deliveries to Orleans, without waiting for them to arrive. When
/// its node dies with a delivery still on its way to another gateway, the sender has its success, and only the sender's
/// gateway still knows the message: it keeps it, and the room's next activation sends it again to the gateway that
/// missed it. Here the way to that gateway is cut (each node in a network namespace of its own, packets dropped) while
/// the sends go on, so that every delivery to it is still in flight when the room's node is killed.
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
            var far = members.Single(m => m.Name == $"member-{cutOff.Name}");
            var near = members.Single(m => m.Name == $"member-{senderAt.Name}");
            await using var sender = await cluster.ConnectAsync(senderAt, "sender");

            var sent = new List<int>();
            for (var n = 1; n <= 3; n++)
            {
                await sender.InvokeAsync("SendToRoom", Room, "n", n).Within("a send before the cut");
                sent.Add(n);
            }

            await Eventually.True(() => Numbers(far).Count == 3, $"{far.Name} to get the sends before the cut");

            // The room's node no longer reaches the far gateway; the sends go on, and each reports success. The link
            // stays cut to the end: what the killed node's kernel still holds for the far gateway never gets there.
            TestCluster.Cut(cutOff, host);
            try
            {
                for (var n = 4; n <= 20; n++)
                {
                    await sender.InvokeAsync("SendToRoom", Room, "n", n).Within("a send during the cut");
                    sent.Add(n);
                }

                await Eventually.True(() => Numbers(near).Count == 20, $"{near.Name} to get every send");
                output.WriteLine($"{far.Name} had {Numbers(far).Count} of {sent.Count} when {host.Name}, the room's node, was killed");
                host.Kill();

                // Nobody sends again: the gateway that kept the sends calls the room once the cluster declares its node dead.
                await Eventually.True(() => Numbers(far).Count >= sent.Count, $"{far.Name} to get every send that reported success ({sent.Count})", TimeSpan.FromSeconds(30));
            }
            finally
            {
                TestCluster.Heal(cutOff);
            }

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

    private static List<int> Numbers(SignalRTestClient member) =>
        [.. member.ReceivedOn("event").Where(e => e.Arguments[0].GetProperty("room").GetString() == Room).Select(e => e.Arguments[0].GetProperty("data").GetInt32())];
}
