using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR.Client;
using System.Text.Json;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>The cluster as separate OS processes: Redis, silos and gateways, with faults caused for real.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests
{
    // The bounds docs/architecture.md states for the shipped settings, which TestCluster runs, each with what one poll
    // may take on top (a call that was on its way to the lost node ends within Cluster:ResponseTimeout) and a margin
    // for a loaded CI machine. FailoverTests measures the failover itself against the 3 s bound, send by send.
    private static readonly TimeSpan PollAndMargin = TimeSpan.FromSeconds(5) + TimeSpan.FromSeconds(2);

    /// <summary><c>kill -9</c> of a node: every room takes sends again within 3 s.</summary>
    private static readonly TimeSpan AfterKill = TimeSpan.FromSeconds(3) + PollAndMargin;

    /// <summary>A frozen node is left to the probes, which declare it dead within about 5 s.</summary>
    private static readonly TimeSpan AfterFreeze = TimeSpan.FromSeconds(5) + PollAndMargin;

    /// <summary>A node that stops gracefully hands its grains over before it exits: the next poll finds them.</summary>
    private static readonly TimeSpan AfterStop = PollAndMargin;

    /// <summary>
    /// A new silo, or Redis back after an outage: no stated bound (a joining silo is seen at the next read of the
    /// membership table, every 5 s, then takes new activations), so a generous one.
    /// </summary>
    private static readonly TimeSpan AfterJoin = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task KillSilo_WhileClientsExchangeMessages_TrafficResumesWithEveryRoomIntactAndNoRejoin()
    {
        await using var cluster = await TestCluster.StartAsync();
        var clients = await ConnectAsync(cluster, 2);
        var rooms = Enumerable.Range(0, 12).Select(i => $"room{i}").ToArray();
        try
        {
            foreach (var room in rooms)
            {
                await JoinAllAsync(clients, room);
            }

            await RoundTripAsync(clients, rooms, "before");
            using var stop = new CancellationTokenSource();
            var succeeded = new ConcurrentQueue<(string Room, int N)>();
            var traffic = KeepSendingAsync(clients, rooms, succeeded, stop.Token);
            await Eventually.True(() => !succeeded.IsEmpty, "traffic before the kill");
            cluster.Silos[0].Kill();

            await Eventually.TrueAsync(() => TryRoundTripAsync(clients, rooms, "after"), "every room delivers again after the silo died", AfterKill);
            var recovered = succeeded.Count;
            await Eventually.True(() => succeeded.Count >= recovered + rooms.Length, "the traffic to go on after the recovery", AfterStop);
            await stop.CancelAsync();
            await traffic.Within("the traffic to stop");

            // Every send that reported success, before, across and after the kill, reached both members of its room.
            await AssertEveryDeliveredAsync(clients, succeeded);
            foreach (var room in rooms)
            {
                Assert.Equal(2, (await clients[0].InvokeAsync<Presence[]>("Presence", room)).Length);
            }

            Assert.All(clients, c => Assert.False(c.Closed.IsCompleted, $"{c.Name} was disconnected"));
            Assert.Equal(rooms.Order(), (await clients[1].InvokeAsync<string[]>("Rooms")).Order());
        }
        finally
        {
            await DisposeAllAsync(clients);
        }
    }

    [Fact]
    public async Task KillGateway_ItsConnections_DisappearFromPresenceAndRooms()
    {
        await using var cluster = await TestCluster.StartAsync();
        var survivor = await cluster.ConnectAsync(cluster.Gateways[0], "survivor");
        var doomed = await cluster.ConnectAsync(cluster.Gateways[1], "doomed");
        try
        {
            await survivor.InvokeAsync("Join", "lobby");
            await doomed.InvokeAsync("Join", "lobby");
            await doomed.InvokeAsync("Join", "games");
            Assert.Equal(2, (await survivor.InvokeAsync<Presence[]>("NamespacePresence")).Length);

            cluster.Gateways[1].Kill();

            await Eventually.TrueAsync(
                async () =>
                {
                    try
                    {
                        return (await survivor.InvokeAsync<Presence[]>("Presence", "lobby")).Length == 1 &&
                               (await survivor.InvokeAsync<Presence[]>("Presence", "games")).Length == 0 &&
                               (await survivor.InvokeAsync<Presence[]>("NamespacePresence")).Length == 1;
                    }
                    catch (HubErrorException ex) when (ex.Message.Contains("right now; try again", StringComparison.Ordinal))
                    {
                        // A room whose grain lived on the dead gateway answers so until the cluster declares it dead.
                        return false;
                    }
                },
                "the dead gateway's connection left every room and the namespace",
                AfterKill);
            await survivor.InvokeAsync("SendToRoom", "lobby", "still", "works");
            await survivor.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "still");
        }
        finally
        {
            await survivor.DisposeAsync();
            await doomed.DisposeAsync();
        }
    }

    [Fact]
    public async Task ThirdSiloJoins_UnderTraffic_GrainsMoveToItAndTrafficGoesOn()
    {
        await using var cluster = await TestCluster.StartAsync();
        var clients = await ConnectAsync(cluster, 2);
        var rooms = Enumerable.Range(0, 30).Select(i => $"room{i}").ToArray();
        using var stop = new CancellationTokenSource();
        try
        {
            foreach (var room in rooms)
            {
                await JoinAllAsync(clients, room);
            }

            var succeeded = new ConcurrentQueue<(string Room, int N)>();
            var traffic = KeepSendingAsync(clients, rooms, succeeded, stop.Token);

            var third = await cluster.StartSiloAsync();
            await Eventually.TrueAsync(async () => await ActivationsAsync(third) > 0, "grains activate on the new silo", AfterJoin);
            await Eventually.TrueAsync(() => TryRoundTripAsync(clients, rooms, "after-join"), "every room delivers after the join", AfterJoin);
            await stop.CancelAsync();
            await traffic.Within("the traffic loop to stop");
            await AssertEveryDeliveredAsync(clients, succeeded);

            foreach (var room in rooms)
            {
                Assert.Equal(2, (await clients[0].InvokeAsync<Presence[]>("Presence", room)).Length);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await DisposeAllAsync(clients);
        }
    }

    [Fact]
    public async Task RedisStopped_ExistingMembersKeepTalking_AndNewSilosJoinWhenItIsBack()
    {
        await using var cluster = await TestCluster.StartAsync();
        var clients = await ConnectAsync(cluster, 2);
        var rooms = new[] { "r1", "r2", "r3", "r4" };
        try
        {
            foreach (var room in rooms)
            {
                await JoinAllAsync(clients, room);
            }

            cluster.Redis.Kill();
            await cluster.Redis.WaitForExitAsync(TimeSpan.FromSeconds(10));

            // Longer than the time after which a silent node is declared dead: nobody may be declared dead now.
            var outageEnds = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            var round = 0;
            while (DateTime.UtcNow < outageEnds)
            {
                await RoundTripAsync(clients, rooms, $"outage-{round++}");
            }

            await cluster.StartRedisAsync();
            var third = await cluster.StartSiloAsync();
            await Eventually.TrueAsync(async () => await ActivationsAsync(third) > 0 || await TryRoundTripAsync(clients, rooms, "after-outage"), "the cluster admits the new silo", AfterJoin);
            await Eventually.TrueAsync(() => TryRoundTripAsync(clients, rooms, "after-outage-2"), "every room delivers after the outage", AfterJoin);
            Assert.All(cluster.Silos.Take(2).Concat(cluster.Gateways), n => Assert.False(n.HasExited, $"{n.Name} stopped"));
        }
        finally
        {
            await DisposeAllAsync(clients);
        }
    }

    [Fact]
    public async Task GatewayKilled_TheRealClientReconnectsThroughTheBalancerToTheOther_AndRejoinsItsRoom()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 1, gateways: 2);
        await using var nginx = await Nginx.StartAsync(cluster.Gateways);
        var balancer = new Uri($"ws://127.0.0.1:{nginx.Port}/realtime");
        await using var mobile = await SignalRTestClient.ConnectAsync(balancer, "mobile", reconnect: new FixedRetries(TimeSpan.FromMilliseconds(500)));

        // What an application does on automatic reconnect: join its rooms again (the new connection has none yet).
        mobile.Connection.Reconnected += async _ => await mobile.Connection.InvokeAsync<string[]>("Join", "lobby");
        await mobile.InvokeAsync("Join", "lobby");
        var before = (await mobile.InvokeAsync<Presence[]>("Presence", "lobby")).Single().GatewayId;
        var its = cluster.Gateways.Single(g => before.StartsWith(g.Name + "@", StringComparison.Ordinal));
        var other = cluster.Gateways.Single(g => g != its);
        await using var sender = await cluster.ConnectAsync(other, "sender");

        its.Kill();

        await Eventually.True(() => mobile.Reconnections == 1, "the client to reconnect through the balancer", AfterKill);
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    await sender.InvokeAsync("SendToRoom", "lobby", "after", "the kill");
                }
                catch (HubErrorException ex) when (ex.Message.Contains("The cluster could not complete SendToRoom", StringComparison.Ordinal))
                {
                    // The room lived on the killed gateway: until the cluster has declared it dead, sends say so.
                    return false;
                }

                return mobile.ReceivedOn("event").Any(e => e.Arguments[0].GetProperty("event").GetString() == "after");
            },
            "the reconnected client to receive the room's messages again",
            AfterKill);
        Assert.Contains(await mobile.InvokeAsync<Presence[]>("Presence", "lobby"), p => p.GatewayId.StartsWith(other.Name + "@", StringComparison.Ordinal));
        Assert.False(mobile.Closed.IsCompleted);
    }

    [Fact]
    public async Task RoundRobinNginxOfTheComposeFile_ClientsLandOnBothGateways_RoomsWorkAndSurviveASiloKill()
    {
        await using var cluster = await TestCluster.StartAsync();
        await using var nginx = await Nginx.StartAsync(cluster.Gateways);
        var clients = new List<SignalRTestClient>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                clients.Add(await SignalRTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{nginx.Port}/realtime"), $"client{i}"));
            }

            var rooms = new[] { "lobby", "games", "news" };
            foreach (var room in rooms)
            {
                await JoinAllAsync(clients, room);
            }

            var presence = await clients[0].InvokeAsync<Presence[]>("Presence", "lobby");
            Assert.Equal(4, presence.Length);
            Assert.Equal(2, presence.Select(p => p.GatewayId).Distinct().Count()); // round robin, no stickiness
            await RoundTripAsync(clients, rooms, "through-nginx");

            cluster.Silos[1].Kill();

            await Eventually.TrueAsync(() => TryRoundTripAsync(clients, rooms, "after-kill"), "rooms deliver through nginx after a silo died", AfterKill);
            Assert.All(clients, c => Assert.False(c.Closed.IsCompleted, $"{c.Name} was disconnected"));
        }
        finally
        {
            await DisposeAllAsync(clients);
        }
    }

    [Fact]
    public async Task SiloStopsGracefully_ItsGrainsReactivateElsewhere_AndItExitsCleanly()
    {
        await using var cluster = await TestCluster.StartAsync();
        var clients = await ConnectAsync(cluster, 2);
        var rooms = Enumerable.Range(0, 16).Select(i => $"room{i}").ToArray();
        try
        {
            foreach (var room in rooms)
            {
                await JoinAllAsync(clients, room);
            }

            await RoundTripAsync(clients, rooms, "before");
            Assert.True(await ActivationsAsync(cluster.Silos[0]) > 0, "the leaving silo hosts grains");

            cluster.Silos[0].Signal("TERM");
            await cluster.Silos[0].WaitForExitAsync(TimeSpan.FromSeconds(30));

            await Eventually.TrueAsync(() => TryRoundTripAsync(clients, rooms, "after"), "every room delivers from the remaining silo", AfterStop);
            foreach (var room in rooms)
            {
                Assert.Equal(2, (await clients[0].InvokeAsync<Presence[]>("Presence", room)).Length);
            }

            Assert.Contains("left the cluster", cluster.Silos[0].Output);
            Assert.All(clients, c => Assert.False(c.Closed.IsCompleted, $"{c.Name} was disconnected"));
        }
        finally
        {
            await DisposeAllAsync(clients);
        }
    }

    [Fact]
    public async Task GatewayStopsGracefully_ClientsAreToldToReconnect_AndTheirMembershipIsGone()
    {
        await using var cluster = await TestCluster.StartAsync();
        var survivor = await cluster.ConnectAsync(cluster.Gateways[0], "survivor");
        // The real client with automatic reconnect, retrying at once and then once a second.
        var leaving = await SignalRTestClient.ConnectAsync(
            new Uri($"ws://127.0.0.1:{cluster.Gateways[1].Port}/realtime"), "leaving", reconnect: new FixedRetries(TimeSpan.FromSeconds(1)));
        try
        {
            await survivor.InvokeAsync("Join", "lobby");
            await leaving.InvokeAsync("Join", "lobby");

            cluster.Gateways[1].Signal("TERM");

            // The close message allows a reconnect, so the client reconnects instead of closing.
            await Eventually.True(() => leaving.ReconnectingBecause is not null, "the client to start reconnecting");
            Assert.Contains("shutting down", leaving.ReconnectingBecause);
            Assert.False(leaving.Closed.IsCompleted, "a close that allows a reconnect does not end the client");
            await cluster.Gateways[1].WaitForExitAsync(TimeSpan.FromSeconds(30));
            await Eventually.TrueAsync(async () => (await survivor.InvokeAsync<Presence[]>("Presence", "lobby")).Length == 1, "the leaving gateway's member is gone", AfterStop);

            await using var back = await cluster.ConnectAsync(cluster.Gateways[0], "reconnected");
            await back.InvokeAsync("Join", "lobby");
            await survivor.InvokeAsync("SendToRoom", "lobby", "welcome", "back");
            await back.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "welcome");
        }
        finally
        {
            await survivor.DisposeAsync();
            await leaving.DisposeAsync();
        }
    }

    [Fact]
    public async Task FrozenSiloDeclaredDead_WhenItThaws_StopsItself()
    {
        // Rooms live on the silos without connections, so that freezing the one that holds a room stops that room.
        await using var cluster = await TestCluster.StartAsync(silos: 3, gateways: 1, gatewayArguments: TestCluster.GrainsOnSilos, siloArguments: TestCluster.GrainsOnSilos);
        var client = await cluster.ConnectAsync(cluster.Gateways[0], "client");
        var rooms = Enumerable.Range(0, 8).Select(i => $"room{i}").ToArray();
        try
        {
            foreach (var room in rooms)
            {
                await client.InvokeAsync("Join", room);
            }

            var frozen = await cluster.NodeHoldingAsync(TestCluster.RoomGrain(rooms[0]));
            Assert.NotNull(frozen);
            Assert.Contains(frozen, cluster.Silos);
            frozen.Signal("STOP");
            await Eventually.TrueAsync(() => TryRoundTripAsync([client], rooms, "while-frozen"), "the others route around the frozen silo", AfterFreeze);

            frozen.Signal("CONT");
            await frozen.WaitForExitAsync(AfterFreeze); // it learns it was declared dead at its next read of the table

            Assert.Contains("I should be Dead according to the membership table", frozen.Output);
            await RoundTripAsync([client], rooms, "after-thaw");
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    /// <summary>Sends to the rooms in turn until stopped, recording each send that reported success.</summary>
    private static Task KeepSendingAsync(IReadOnlyList<SignalRTestClient> clients, string[] rooms, ConcurrentQueue<(string Room, int N)> succeeded, CancellationToken stop) => Task.Run(async () =>
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            try
            {
                await clients[n % clients.Count].InvokeAsync("SendToRoom", rooms[n % rooms.Length], "load", n);
                succeeded.Enqueue((rooms[n % rooms.Length], n));
            }
            catch (HubErrorException ex)
            {
                // A call in flight while the cluster recovers may fail, and must say so clearly.
                Assert.Contains("The cluster could not complete SendToRoom", ex.Message);
            }
        }
    });

    /// <summary>Nothing that reported success was lost: each client, a member of every room, got each of those sends.</summary>
    private static async Task AssertEveryDeliveredAsync(IReadOnlyList<SignalRTestClient> clients, IEnumerable<(string Room, int N)> succeeded)
    {
        var expected = succeeded.ToHashSet();
        foreach (var client in clients)
        {
            HashSet<(string Room, int N)> Got() =>
            [
                .. client.ReceivedOn("event")
                    .Select(e => e.Arguments[0])
                    .Where(e => e.GetProperty("event").GetString() == "load")
                    .Select(e => (e.GetProperty("room").GetString()!, e.GetProperty("data").GetInt32())),
            ];

            await Eventually.True(() => expected.IsSubsetOf(Got()), $"{client.Name} to get every one of the {expected.Count} sends that reported success", AfterStop);
        }
    }

    internal static async Task<List<SignalRTestClient>> ConnectAsync(TestCluster cluster, int count, string? @namespace = null)
    {
        var clients = new List<SignalRTestClient>();
        for (var i = 0; i < count; i++)
        {
            clients.Add(await cluster.ConnectAsync(cluster.Gateways[i % cluster.Gateways.Count], $"client{i}", @namespace));
        }

        return clients;
    }

    internal static async Task JoinAllAsync(IEnumerable<SignalRTestClient> clients, string room)
    {
        foreach (var client in clients)
        {
            await client.InvokeAsync("Join", room);
        }
    }

    /// <summary>The first client sends one message to each room; every client must receive all of them.</summary>
    private static async Task RoundTripAsync(IReadOnlyList<SignalRTestClient> clients, string[] rooms, string tag)
    {
        var marker = $"{tag}-{Guid.NewGuid():N}";
        foreach (var room in rooms)
        {
            await clients[0].InvokeAsync("SendToRoom", room, "round", marker);
        }

        foreach (var client in clients)
        {
            await client.WaitForAsync("event", e => e.Arguments[0].GetProperty("data").ToString() == marker, count: rooms.Length, timeout: TimeSpan.FromSeconds(5));
        }
    }

    private static async Task<bool> TryRoundTripAsync(IReadOnlyList<SignalRTestClient> clients, string[] rooms, string tag)
    {
        try
        {
            await RoundTripAsync(clients, rooms, tag);
            return true;
        }
        catch (HubErrorException ex)
        {
            // While the cluster recovers, a call may fail; it must say why, not "an unexpected error".
            Assert.Contains("The cluster could not complete SendToRoom right now; try again.", ex.Message);
            return false;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static async Task<int> ActivationsAsync(NodeProcess silo)
    {
        try
        {
            using var stats = JsonDocument.Parse(await TestCluster.GetAsync(silo, "/stats"));
            return stats.RootElement.GetProperty("activations").GetInt32();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
    }

    internal static async Task DisposeAllAsync(IEnumerable<SignalRTestClient> clients)
    {
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    private sealed record Presence(string ConnectionId, string? UserId, string GatewayId);
}

/// <summary>Cluster tests start several processes each: they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "cluster";
}
