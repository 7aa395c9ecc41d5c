using System.Text;
using Realtime.Grains;
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
            foreach (var gateway in new[] { a, b })
            {
                await Eventually.True(() => gateway.SequencesOf(DeliveryTarget.Room, room).Length == 400, $"gateway {gateway.GatewayId} gets all 400");
                Assert.Equal(Enumerable.Range(1, 400).Select(n => (long)n), gateway.SequencesOf(DeliveryTarget.Room, room));
            }

            Assert.Equal(TextsInChainOrder(a, room), TextsInChainOrder(b, room));
        });

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

            Assert.Equal(2, await grain.Leave(leaver, b.Reference).Within("the leave"));
            Assert.Equal(["a1", "a2"], (await grain.Members().Within("the members")).Select(m => m.ConnectionId).Order());
            await Eventually.True(() => b.Deliveries.Any(d => d.Kind == DeliveryKind.MemberLeft && d.Connection == "b1"), "b hears that b1 left");
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
                var chain = gateway.Deliveries.Where(d => d.Key == room).OrderBy(d => d.Position).Select(d => d.Kind).ToArray();
                Assert.Equal([DeliveryKind.Message, DeliveryKind.Closed], chain);
            }
        });

    [Fact]
    public async Task GatewayLeaseRunsOut_ItsMembersLeaveEveryGroup_AndItCannotRenewAgain()
    {
        var (a, b) = await fixture.TwoGatewaysAsync();
        await using (a)
        await using (b)
        {
            var rooms = Enumerable.Range(0, 4).Select(i => GrainKeys.Room(a.Hub, "/", $"room{i}")).ToArray();
            foreach (var room in rooms)
            {
                await a.JoinAsync(room, "a1");
                await b.JoinAsync(room, "b1");
            }

            await b.StopRenewing();

            await Eventually.True(
                () => rooms.All(room => fixture.Client.GetGrain<IRoomGrain>(room).MemberCount().Result == 1),
                "every room drops b's member once b's lease runs out",
                GrainClusterFixture.LeaseTimeout * 10);
            var view = await a.HubGrain.Gateways().Within("the registry");
            Assert.Contains(b.GatewayId, view.Departed);
            Assert.DoesNotContain(view.Live, g => g.GatewayId == b.GatewayId);
            Assert.Equal(LeaseStatus.Expired, await a.HubGrain.RenewLease(new GatewayRegistration(b.GatewayId, b.Reference, null)).Within("b's late renewal"));
        }
    }

    [Fact]
    public Task GatewayLeaseLapses_ButTheGatewayAnswersTheHub_ItKeepsItsMembersUntilItGoesDark() =>
        InARoomOnTwoGatewaysAsync(async (a, b, room, grain) =>
        {
            // b's renewals stop arriving (as when they go through a frozen silo), but b is alive and says so.
            b.AnswersWhenSilent = true;
            await b.StopRenewing();

            await Eventually.True(() => b.Probes >= 3, "the hub asks b, lease after lease", GrainClusterFixture.LeaseTimeout * 10);
            Assert.Equal(2, await grain.MemberCount().Within("the count"));
            var view = await a.HubGrain.Gateways().Within("the registry");
            Assert.Contains(view.Live, g => g.GatewayId == b.GatewayId);
            Assert.DoesNotContain(b.GatewayId, view.Departed);

            b.AnswersWhenSilent = false;
            await Eventually.True(() => grain.MemberCount().Result == 1, "b's member is dropped once b no longer answers", GrainClusterFixture.LeaseTimeout * 10);
        });

    /// <summary>Two gateways of a new hub with a room "lobby" that a1 (on a) and b1 (on b) joined; runs <paramref name="test"/>.</summary>
    private async Task InARoomOnTwoGatewaysAsync(Func<FakeGateway, FakeGateway, string, IRoomGrain, Task> test)
    {
        var (a, b) = await fixture.TwoGatewaysAsync();
        await using (a)
        await using (b)
        {
            var room = GrainKeys.Room(a.Hub, "/", "lobby");
            await a.JoinAsync(room, "a1");
            await b.JoinAsync(room, "b1");
            await test(a, b, room, fixture.Client.GetGrain<IRoomGrain>(room));
        }
    }

    internal static Publication Text(string text) =>
        new(new SerializedPayload([new ProtocolPayload("json", Encoding.UTF8.GetBytes(text))]));

    private static string[] TextsInChainOrder(FakeGateway gateway, string key) =>
        gateway.Deliveries.Where(d => d.Key == key && d.Kind == DeliveryKind.Message)
            .OrderBy(d => d.Position)
            .Select(d => Encoding.UTF8.GetString(d.Payload!.Protocols[0].Bytes.Span))
            .ToArray();
}
