using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Realtime.Contracts;
using Realtime.Grains.Gateways;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Grains;

/// <summary>The member groups' promises, on Orleans' in-process test cluster with two silos.</summary>
public sealed class MemberGroupGrainTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    [Fact]
    public Task Room_TwoSendersAtOnce_EveryGatewayGetsEveryMessageOnceInTheRoomsOrder() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            var sent = await Task.WhenAll(Enumerable.Range(0, 2).Select(sender => Task.Run(async () =>
            {
                var sequences = new List<long>();
                for (var n = 0; n < 200; n++)
                {
                    sequences.Add(await grain.Publish(Text($"{sender}:{n}")));
                }

                return sequences;
            }))).Within("400 sends");

            Assert.All(sent, sequences => Assert.True(sequences.SequenceEqual(sequences.Order()), "a sender's sends are stamped in the order it made them"));
            await EachGetsAsync(room, 400, a, b);
            foreach (var gateway in new[] { a, b })
            {
                Assert.Equal(Enumerable.Range(1, 400).Select(n => (long)n), gateway.SequencesOf(DeliveryTarget.Room, room));
            }

            Assert.Equal(TextsInChainOrder(a, room), TextsInChainOrder(b, room));
        });

    [Fact]
    public Task Room_AMessageToTheGatewayOfItsOwnSilo_IsHandedOverInTheRoomsTurn_NoticesAndTheOtherGatewayGetCalls() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            var roomId = grain.GetGrainId();
            var (here, there) = OwnSilosFirst(a, b, roomId);
            await grain.Publish(Text("one")).Within("the send");
            await here.JoinAsync(room, "leaver");
            await grain.Leave(new Member("leaver", here.GatewayId, null)).Within("the leave");
            await grain.Publish(Text("two")).Within("the send");
            await EachGetsAsync(room, 2, here, there);

            await Eventually.True(() => here.Deliveries.Any(d => d.Kind == DeliveryKind.MemberLeft), "the leave's notice reaches the room's own gateway");

            // The room's own silo: its messages without a call (no message, no thread to wake), its notices as calls.
            var handedHere = here.Handed.Where(h => h.Delivery.Key == room).ToList();
            Assert.All(handedHere.Where(h => h.Delivery.Kind == DeliveryKind.Message), h => Assert.Equal(roomId, h.In));
            Assert.All(handedHere.Where(h => h.Delivery.Kind != DeliveryKind.Message), h => Assert.NotEqual(roomId, h.In));
            Assert.All(there.Handed.Where(h => h.Delivery.Key == room), h => Assert.NotEqual(roomId, h.In));
            Assert.Equal(TextsInChainOrder(a, room), TextsInChainOrder(b, room));
        });

    [Fact]
    public Task Room_ABatchOfSends_ReachesTheOtherSilosGatewayInOneCall_InOrder_AfterAndBeforeSingleSends() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            var roomId = grain.GetGrainId();
            var (here, there) = OwnSilosFirst(a, b, roomId);

            await grain.Publish(Text("0")).Within("a single send");
            Assert.Equal(4, await grain.PublishAll([Text("1"), Text("2"), Text("3")]).Within("a batch of three"));
            await grain.Publish(Text("4")).Within("a single send");

            await EachGetsAsync(room, 5, here, there);
            Assert.Equal(["0", "1", "2", "3", "4"], TextsInChainOrder(here, room));
            Assert.Equal(["0", "1", "2", "3", "4"], TextsInChainOrder(there, room));

            var history = await grain.Since(there.Deliveries.First(d => d.Key == room).Epoch, 0).Within("the history");
            Assert.Equal([1L, 2, 3, 4, 5], history.Messages.Select(m => m.Sequence));
            Assert.Equal([3], there.Calls);
            Assert.Empty(here.Calls); // handed over in the room's turn, one by one
        });

    [Fact]
    public async Task Room_ABatchOfSends_ToAGatewayOfAnEarlierVersion_GoesOneCallEach()
    {
        await using var cluster = await GrainClusterFixture.StartAsync(silos: 2, lastSiloReads: PayloadForms.PositionsVersion);
        var (current, earlier, room, grain) = await InARoomOnTheFirstGatewaysSiloAsync(cluster); // the second is on the silo that says 3
        var seen = current.Silo.ServiceProvider.GetRequiredService<ISiloMetadataCache>().GetSiloMetadata(earlier.Silo.SiloAddress).Metadata;
        Assert.Equal("3", seen.GetValueOrDefault(PayloadForms.Key));

        await grain.PublishAll([Text("1"), Text("2"), Text("3")]).Within("a batch of three");

        await EachGetsAsync(room, 3, earlier);
        Assert.Equal(current.Silo, cluster.SiloOf(grain.GetGrainId()));
        Assert.Equal(["1", "2", "3"], TextsInChainOrder(earlier, room));
        Assert.Empty(earlier.Calls);
    }

    [Fact]
    public Task Presence_MembersOnTwoGateways_AreListedAndCountedWithTheirGateways() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            await a.JoinAsync(room, "a2");
            var leaver = new Member("b1", b.GatewayId, null);

            Assert.Equal(3, await grain.MemberCount().Within("the count"));
            var members = await grain.Members().Within("the members");
            Assert.Equal(["a1", "a2", "b1"], members.Select(m => m.ConnectionId).Order());
            Assert.Equal(a.GatewayId, members.Single(m => m.ConnectionId == "a1").GatewayId);
            Assert.Equal(b.GatewayId, members.Single(m => m.ConnectionId == "b1").GatewayId);

            Assert.Equal(2, await grain.Leave(leaver).Within("the leave"));
            Assert.Equal(["a1", "a2"], (await grain.Members().Within("the members")).Select(m => m.ConnectionId).Order());
            await Eventually.True(() => b.Deliveries.Any(d => d.Kind == DeliveryKind.MemberLeft && d.Connection == "b1"), "b hears that b1 left");
        });

    [Fact]
    public Task PresenceWithData_AsksEachGatewayOnce_AndNoSessionGrain() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            await a.JoinAsync(room, "a2");
            foreach (var (gateway, id) in new[] { (a, "a1"), (a, "a2"), (b, "b1") })
            {
                gateway.SetData(id, JsonSerializer.SerializeToElement(new { name = id }));
            }

            var sessions = await grain.Sessions().Within("the sessions");

            Assert.Equal(["a1", "a2", "b1"], sessions.Select(s => s.Data!.Value.GetProperty("name").GetString()).Order());
            Assert.Equal(b.GatewayId, sessions.Single(s => s.Member.ConnectionId == "b1").Member.GatewayId);
            Assert.Equal((1, 1), (a.SessionQuestions, b.SessionQuestions));
            foreach (var id in new[] { "a1", "a2", "b1" })
            {
                Assert.False(fixture.Cluster.TryGetGrainContext(fixture.Client.GetGrain<ISessionGrain>(GrainKeys.Session(a.Hub, id)).GetGrainId(), out _), $"{id}'s session grain was not woken");
            }
        });

    [Fact]
    public Task PresenceWithData_AGatewayThatDoesNotAnswer_ItsMembersAreReadFromTheirSessions() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            a.SetData("a1", JsonSerializer.SerializeToElement("from a"));
            b.SetData("b1", JsonSerializer.SerializeToElement("from b"));
            b.FailSessionQuestions = true;

            var sessions = await grain.Sessions().Within("the sessions");

            Assert.Equal(["from a", "from b"], sessions.Select(s => s.Data!.Value.GetString()).Order());
        });

    [Fact]
    public Task ActingOnMembers_AsksEachGatewayOnce_AndNoSessionGrain() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            await a.JoinAsync(room, "a2");
            var members = await grain.Members().Within("the members");

            var done = await fixture.Client.GetGrain<IConnectionsGrain>(a.Hub).Act([.. members, new Member("gone", b.GatewayId, null)], ConnectionAction.Disconnect).Within("the disconnect");

            Assert.Equal(3, done);
            Assert.Equal((1, 1), (a.ActQuestions, b.ActQuestions));
            Assert.Equal(["a1", "a2", "b1"], a.Acted.Concat(b.Acted).Select(d => d.ConnectionId).Order());
            Assert.All(a.Acted.Concat(b.Acted), d => Assert.Equal(ConnectionActionKind.Disconnect, d.Kind));
            Assert.False(fixture.Cluster.TryGetGrainContext(fixture.Client.GetGrain<ISessionGrain>(GrainKeys.Session(a.Hub, "b1")).GetGrainId(), out _), "b1's session grain was not woken");
        });

    [Fact]
    public Task ActingOnMembers_AGatewayThatDoesNotAnswer_ItsMembersAreReachedThroughTheirSessions() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            b.SetData("b1", JsonSerializer.SerializeToElement("b1's"));
            b.FailActQuestions = true;
            var members = await grain.Members().Within("the members");

            var done = await fixture.Client.GetGrain<IConnectionsGrain>(a.Hub).Act(members, ConnectionAction.Disconnect).Within("the disconnect");

            Assert.Equal(2, done);
            Assert.Equal([("b1", ConnectionActionKind.Disconnect)], b.Acted);
        });

    [Fact]
    public Task InvokingMembers_AsksEachGatewayOnce_AndAFailedGatewaysMembersGiveNoAnswer() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            await a.JoinAsync(room, "a2");
            var members = await grain.Members().Within("the members");
            var connections = fixture.Client.GetGrain<IConnectionsGrain>(a.Hub);

            var answers = await connections.InvokeClients(members, "ping", [], TimeSpan.FromSeconds(5)).Within("the answers");

            Assert.Equal(["a1 answers ping", "a2 answers ping", "b1 answers ping"], answers.Select(x => x.GetString()).Order());
            Assert.Equal((1, 1), (a.InvokeQuestions, b.InvokeQuestions));
            Assert.False(fixture.Cluster.TryGetGrainContext(fixture.Client.GetGrain<ISessionGrain>(GrainKeys.Session(a.Hub, "b1")).GetGrainId(), out _), "b1's session grain was not woken");

            // b1's session could find it (its gateway says it has it): a failed gateway's clients are still not called again.
            b.SetData("b1", JsonSerializer.SerializeToElement("b1's"));
            b.FailInvokeQuestions = true;
            answers = await connections.InvokeClients(members, "ping", [], TimeSpan.FromSeconds(5)).Within("the answers");

            Assert.Equal(["a1 answers ping", "a2 answers ping"], answers.Select(x => x.GetString()).Order());
        });

    [Fact]
    public Task CloseRoom_WithMembersOnTwoGateways_TellsBothAfterTheLastMessageAndEmptiesTheRoom() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            await grain.Publish(Text("last words")).Within("a send");

            Assert.Equal(2, await grain.Close().Within("the close"));

            Assert.Equal(0, await grain.MemberCount().Within("the count"));
            foreach (var gateway in new[] { a, b })
            {
                await Eventually.True(() => gateway.Deliveries.Any(d => d.Kind == DeliveryKind.Closed), $"{gateway.GatewayId} hears of the close");
                // (A gateway that had a member when the room activated was told its epoch first: DeliveryKind.Started.)
                var chain = gateway.Deliveries.Where(d => d.Key == room && d.Kind != DeliveryKind.Started).OrderBy(d => d.Position).Select(d => d.Kind).ToArray();
                Assert.Equal([DeliveryKind.Message, DeliveryKind.Closed], chain);
            }
        });

    [Fact]
    public Task RoomMigratesToAnotherSilo_ItKeepsItsMembersNumberingAndHistory_WithoutAskingTheGateways() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            var first = await grain.Publish(Text("before")).Within("a send");
            await Eventually.True(() => b.Deliveries.Any(d => d.Key == room && d.Sequence == first), "b to get it");
            var epoch = b.Deliveries.First(d => d.Key == room && d.Sequence == first).Epoch;
            var from = fixture.SiloOf(GrainId.Create("room", room));
            var to = fixture.Cluster.Silos.First(s => s != from);
            a.ClearQueries();
            b.ClearQueries();

            await fixture.Cluster.MigrateAsync(GrainId.Create("room", room), to.SiloAddress).Within("the migration");

            var next = await grain.Publish(Text("after")).Within("a send after the move");
            Assert.Equal(to, fixture.SiloOf(GrainId.Create("room", room)));
            Assert.Equal(first + 1, next);
            Assert.Equal(2, await grain.MemberCount().Within("the count"));
            var replay = await grain.Since(epoch, first - 1).Within("the history");
            Assert.True(replay.Complete, "the history moved with the room");
            Assert.Equal([first, next], replay.Messages.Select(m => m.Sequence));
            foreach (var gateway in new[] { a, b })
            {
                await Eventually.True(() => gateway.Deliveries.Any(d => d.Key == room && d.Sequence == next && d.Epoch == epoch), $"{gateway.GatewayId} to get the next message, same epoch");
                Assert.Empty(gateway.QueriedKeys(DeliveryTarget.Room));

                // The gateway's chain goes on where it stood, so that its order holds across the move.
                var before = gateway.Deliveries.Single(d => d.Key == room && d.Sequence == first);
                var after = gateway.Deliveries.Single(d => d.Key == room && d.Sequence == next);
                Assert.Equal(before.Chain, after.Chain);
                Assert.Equal(before.Position + 1, after.Position);
            }
        });

    [Fact]
    public async Task GatewaySiloKilled_ItsMembersLeaveEveryGroupAndTheHub()
    {
        await using var cluster = await GrainClusterFixture.StartAsync(silos: 3);
        var (a, b) = await cluster.TwoGatewaysAsync();
        var rooms = Enumerable.Range(0, 6).Select(i => GrainKeys.Room(a.Hub, "/", $"room{i}")).ToArray();
        foreach (var room in rooms)
        {
            await a.JoinAsync(room, "a1");
            await b.JoinAsync(room, "b1");
        }

        await cluster.Cluster.KillSiloAsync(b.Silo);

        // Rooms that lived on b's silo come back without b's member; the others drop it when b is declared dead.
        foreach (var room in rooms)
        {
            var grain = cluster.Client.GetGrain<IRoomGrain>(room);
            await Eventually.TrueWhileRecovering(
                async () => (await grain.Members()).Select(m => m.ConnectionId).SequenceEqual(["a1"]),
                $"{room} keeps a1 and drops b1",
                TimeSpan.FromSeconds(30));
        }

        var hub = cluster.Client.GetGrain<IGatewayRegistryGrain>(a.Hub);
        await Eventually.TrueWhileRecovering(async () => (await hub.Gateways()).SequenceEqual([a.GatewayId]), "the hub lists a only", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public Task Room_AServicesConfirmedSend_IsAnsweredOnlyOnceTheOtherSilosGatewayTookIt_WhileOtherSendsGoOn() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            await grain.Publish(Text("first")).Within("a send that places the room");
            var (here, there) = OwnSilosFirst(a, b, grain.GetGrainId());
            await EachGetsAsync(room, 1, here, there);

            // The other silo's gateway is slow to take the next message: the confirmed send waits for it.
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            there.HoldMessages = release.Task;
            Task<long> confirmed;
            try
            {
                confirmed = grain.PublishConfirmed(Text("confirmed"));
                await there.Holding.Task.Within("the message to reach the held gateway");

                // Meanwhile the room takes other sends, numbered after it.
                Assert.Equal(3, await grain.Publish(Text("meanwhile")).Within("a send while the confirmation is awaited"));
                Assert.False(confirmed.IsCompleted, "the confirmed send was answered before the other silo's gateway took it");
            }
            finally
            {
                // Released in any case: a gateway held on its silo holds that silo's gateway service for other tests too.
                there.HoldMessages = null;
                release.SetResult();
            }

            Assert.Equal(2, await confirmed.Within("the confirmed send, once taken"));
            await EachGetsAsync(room, 3, here, there);
            Assert.Equal(["first", "confirmed", "meanwhile"], TextsInChainOrder(there, room));
        });

    [Fact]
    public async Task Room_AConfirmedSendThatAGatewayFails_WaitsForItsNodesDeath_OrFailsWhenTheNodeLives()
    {
        await using var cluster = await GrainClusterFixture.StartAsync(silos: 3);
        var (a, b, room, grain) = await InARoomOnTheFirstGatewaysSiloAsync(cluster);

        // b fails its calls and its node stays listed as active: after the wait for a verdict, the send fails.
        b.FailMessages = true;
        await Assert.ThrowsAnyAsync<Exception>(() => grain.PublishConfirmed(Text("not confirmed")).Within("the confirmed send", TimeSpan.FromSeconds(30)));

        // b fails again, as a process killed a moment ago would, and then its node dies: the send is answered.
        var confirmed = grain.PublishConfirmed(Text("confirmed by b's death"));
        await Eventually.True(() => b.Failures == 2, "b to fail the call");
        await cluster.Cluster.KillSiloAsync(b.Silo);
        Assert.Equal(2, await confirmed.Within("the confirmed send", TimeSpan.FromSeconds(30)));
        await EachGetsAsync(room, 2, a);
    }

    [Fact]
    public async Task Room_AConfirmedSendToAGatewayOfVersion3_GoesWithoutAnAnswer_AndIsAnsweredAtOnce()
    {
        await using var cluster = await GrainClusterFixture.StartAsync(silos: 2, lastSiloReads: PayloadForms.PositionsVersion);
        var (current, earlier, room, grain) = await InARoomOnTheFirstGatewaysSiloAsync(cluster); // the second is on the silo that says 3

        await grain.Publish(Text("first")).Within("a send");
        Assert.Equal(current.Silo, cluster.SiloOf(grain.GetGrainId()));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        earlier.HoldMessages = release.Task;
        try
        {
            Assert.Equal(2, await grain.PublishConfirmed(Text("confirmed")).Within("a confirmed send not waiting on a gateway of version 3"));
        }
        finally
        {
            earlier.HoldMessages = null;
            release.SetResult();
        }

        await Eventually.True(() => earlier.SequencesOf(DeliveryTarget.Room, room).Length == 2, "the gateway of version 3 to get it");
    }

    /// <summary>Two gateways of a new hub with a room "lobby" that a1 (on a) and b1 (on b) joined; runs <paramref name="test"/>.</summary>
    private async Task InARoomOnTwoGatewaysAsync(Func<FakeGateway, FakeGateway, string, IRoomGrain, Task> test)
    {
        var (a, b) = await fixture.TwoGatewaysAsync();
        var room = GrainKeys.Room(a.Hub, "/", "lobby");
        await a.JoinAsync(room, "a1");
        await b.JoinAsync(room, "b1");
        await test(a, b, room, fixture.Client.GetGrain<IRoomGrain>(room));
    }

    /// <summary>
    /// Two gateways of a new hub on <paramref name="cluster"/>'s first two silos, with a room "lobby" that a1 (on the
    /// first) and b1 (on the second) joined, and whose grain lives on the first one's silo (moved there if need be).
    /// </summary>
    private static async Task<(FakeGateway A, FakeGateway B, string Room, IRoomGrain Grain)> InARoomOnTheFirstGatewaysSiloAsync(GrainClusterFixture cluster)
    {
        var (a, b) = await cluster.TwoGatewaysAsync();
        var room = GrainKeys.Room(a.Hub, "/", "lobby");
        await a.JoinAsync(room, "a1");
        await b.JoinAsync(room, "b1");
        var grain = cluster.Client.GetGrain<IRoomGrain>(room);
        if (cluster.SiloOf(grain.GetGrainId()) != a.Silo)
        {
            await cluster.Cluster.MigrateAsync(grain.GetGrainId(), a.Silo.SiloAddress).Within("the room's move to the first gateway's silo");
        }

        return (a, b, room, grain);
    }

    /// <summary>Waits until each of <paramref name="gateways"/> has got <paramref name="count"/> of the room's messages.</summary>
    private static async Task EachGetsAsync(string room, int count, params FakeGateway[] gateways)
    {
        foreach (var gateway in gateways)
        {
            await Eventually.True(() => gateway.SequencesOf(DeliveryTarget.Room, room).Length == count, $"gateway {gateway.GatewayId} gets {count} of {room}'s messages");
        }
    }

    /// <summary>The gateway on the silo of <paramref name="group"/>'s activation, then the other.</summary>
    private (FakeGateway Here, FakeGateway There) OwnSilosFirst(FakeGateway a, FakeGateway b, GrainId group) =>
        fixture.SiloOf(group) == a.Silo ? (a, b) : (b, a);

    internal static Publication Text(string text) =>
        new(new SerializedPayload([new ProtocolPayload("json", Encoding.UTF8.GetBytes(text))]));

    /// <summary>The texts of the messages <paramref name="gateway"/> got for a group or connection, in their chain's order.</summary>
    internal static string[] TextsInChainOrder(FakeGateway gateway, string key) =>
        gateway.Deliveries.Where(d => d.Key == key && d.Kind == DeliveryKind.Message)
            .OrderBy(d => d.Position)
            .Select(d => Encoding.UTF8.GetString(d.Payload!.Protocols[0].Bytes.Span))
            .ToArray();
}
