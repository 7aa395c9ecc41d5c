using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;
using Xunit.Abstractions;

namespace Realtime.Tests.Cluster;

/// <summary>
/// A partial partition: one gateway cut off from the silo that holds the rooms, while both still reach Redis and the
/// other gateway (each node in a network namespace of its own, the cut a firewall rule that drops packets: no
/// refusal). Calls that need the cut link end within the response timeout with the cluster's error, the other gateway
/// goes on, and once the link heals every room delivers to both sides again, with every send that reported success.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PartitionTests(ITestOutputHelper output)
{
    private static readonly string[] Rooms = [.. Enumerable.Range(0, 4).Select(i => $"room{i}")];

    /// <summary>
    /// <c>Cluster:ResponseTimeout</c> as shipped (5 s), and a margin of 3 s: Orleans looks for expired calls about once
    /// a second (measured: 5.2 to 6.0 s), and the machine may be loaded.
    /// </summary>
    private static readonly TimeSpan CallBound = TimeSpan.FromSeconds(5 + 3);

    [Fact]
    public async Task GatewayCutOffFromTheRoomsSilo_ItsCallsFailWithinTheTimeout_TheOtherGoesOn_AndAfterTheHealNothingAcknowledgedIsLost()
    {
        string[] placement = [.. TestCluster.GrainsOnSilos];
        await using var cluster = await TestCluster.StartAsync(silos: 1, gateways: 2, gatewayArguments: placement, siloArguments: placement, isolated: true);
        var (cut, other, silo) = (cluster.Gateways[0], cluster.Gateways[1], cluster.Silos[0]);
        await using var far = await cluster.ConnectAsync(cut, "far");
        await using var near = await cluster.ConnectAsync(other, "near");
        foreach (var room in Rooms)
        {
            await far.InvokeAsync("Join", room);
            await near.InvokeAsync("Join", room);
        }

        using var stop = new CancellationTokenSource();
        var nearSent = new ConcurrentQueue<(string Room, int N, long At)>();
        var farSent = new ConcurrentQueue<(string Room, int N, long At)>();
        var farFailed = new ConcurrentQueue<(long At, TimeSpan Took)>();
        var nearTraffic = KeepSendingAsync(near, 0, nearSent, new ConcurrentQueue<(long, TimeSpan)>(), stop.Token);
        var farTraffic = KeepSendingAsync(far, 1, farSent, farFailed, stop.Token);
        await Eventually.True(() => nearSent.Count >= Rooms.Length && farSent.Count >= Rooms.Length, "traffic from both gateways before the cut");

        var cutAt = Stopwatch.GetTimestamp();
        TestCluster.Cut(cut, silo);
        try
        {
            // The cut makes the far side's calls fail, with the cluster's error, each within the response timeout.
            await Eventually.True(() => farFailed.Count >= 2, "the cut gateway's calls to fail", CallBound * 3);

            // The other gateway goes on meanwhile, in every room.
            var before = Stopwatch.GetTimestamp();
            await Eventually.True(
                () => Rooms.All(room => nearSent.Any(s => s.Room == room && s.At > before)),
                "the other gateway's sends to go on in every room during the cut",
                CallBound);
        }
        finally
        {
            TestCluster.Heal(cut);
        }

        var healedAt = Stopwatch.GetTimestamp();
        output.WriteLine($"cut for {Stopwatch.GetElapsedTime(cutAt, healedAt).TotalMilliseconds:0} ms; the cut gateway's failed calls took {string.Join(", ", farFailed.Select(f => $"{f.Took.TotalMilliseconds:0}"))} ms");
        Assert.All(farFailed, f => Assert.True(f.Took <= CallBound, $"a call from the cut gateway took {f.Took.TotalMilliseconds:0} ms"));

        // The heal brings the far side's traffic back, in every room.
        await Eventually.True(
            () => Rooms.All(room => farSent.Any(s => s.Room == room && s.At > healedAt)),
            "the cut gateway's sends to succeed again in every room",
            CallBound * 2);
        await stop.CancelAsync();
        await Task.WhenAll(nearTraffic, farTraffic).Within("the traffic to stop");

        // Nothing that reported success was lost, on either side, in order.
        var acknowledged = nearSent.Concat(farSent).ToList();
        output.WriteLine($"acknowledged: {nearSent.Count} from the other gateway, {farSent.Count} from the cut one; failed on the cut one: {farFailed.Count}");
        foreach (var client in new[] { far, near })
        {
            await Eventually.True(
                () =>
                {
                    var got = Got(client);
                    return acknowledged.All(s => got.Contains((s.Room, s.N)));
                },
                $"{client.Name} to get every one of the {acknowledged.Count} sends that reported success",
                CallBound * 2);
            foreach (var room in Rooms)
            {
                // Once each, and each sender's acknowledged sends in the order sent (a failed send may have gone
                // through too: the error says the cluster could not tell).
                var order = Loads(client).Where(l => l.Room == room).Select(l => l.N).ToList();
                Assert.Equal(order.Distinct().Count(), order.Count);
                foreach (var sender in new[] { nearSent, farSent })
                {
                    var sends = sender.Where(s => s.Room == room).Select(s => s.N).ToList();
                    var acknowledgedHere = sends.ToHashSet();
                    Assert.Equal(sends, order.Where(acknowledgedHere.Contains));
                }
            }

            Assert.False(client.Closed.IsCompleted, $"{client.Name} was disconnected");
        }

        Assert.All(cluster.Silos.Concat(cluster.Gateways), node => Assert.False(node.HasExited, $"{node.Name} stopped: no node is declared dead for a cut link"));
    }

    /// <summary>
    /// Sends to the rooms in turn, one at a time, until stopped: numbers of one parity per client, each send recorded
    /// once it reported success, each failure with how long it took (it must be the cluster's error).
    /// </summary>
    private static Task KeepSendingAsync(
        SignalRTestClient client, int parity, ConcurrentQueue<(string Room, int N, long At)> sent, ConcurrentQueue<(long At, TimeSpan Took)> failed, CancellationToken stop) =>
        Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var (room, n) = (Rooms[i % Rooms.Length], (2 * i) + parity);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await client.InvokeAsync("SendToRoom", room, "load", n);
                    sent.Enqueue((room, n, Stopwatch.GetTimestamp()));
                }
                catch (HubErrorException ex)
                {
                    Assert.Contains("The cluster could not complete SendToRoom right now; try again.", ex.Message);
                    failed.Enqueue((Stopwatch.GetTimestamp(), Stopwatch.GetElapsedTime(started)));
                }
            }
        });

    private static IEnumerable<(string Room, int N)> Loads(SignalRTestClient client) =>
        client.ReceivedOn("event")
            .Select(e => e.Arguments[0])
            .Where(e => e.GetProperty("event").GetString() == "load")
            .Select(e => (e.GetProperty("room").GetString()!, e.GetProperty("data").GetInt32()));

    private static HashSet<(string Room, int N)> Got(SignalRTestClient client) => [.. Loads(client)];
}
