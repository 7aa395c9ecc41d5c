using Orleans.TestingHost;
using Realtime.Contracts;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Grains;

/// <summary>A silo without connections of the in-process test cluster killed under rooms with members on two gateways.</summary>
public sealed class SiloFailureGrainTests
{
    [Fact]
    public async Task RoomsSiloKilled_TheyComeBackOnTheSurvivorsWithEveryMember_BeforeTheyDeliverAnything()
    {
        // Gateways on the first two silos; the victim is one of the other two, which hold only grains here.
        await using var fixture = await GrainClusterFixture.StartAsync(silos: 4);
        var (a, b) = await fixture.TwoGatewaysAsync();
        // Orleans places each room where it likes (the gateways' silos too): rooms are opened until a few live on the
        // silos of grains only, so that the kill below always takes rooms with it (30 rooms all on the gateways'
        // silos made a CI run fail here, before anything was killed).
        var rooms = new List<string>();
        var before = new Dictionary<string, InProcessSiloHandle>();
        while (rooms.Count < 30 || before.Values.Count(silo => silo != a.Silo && silo != b.Silo) < 3)
        {
            Assert.True(rooms.Count < 300, "Orleans placed none of 300 rooms on the two silos of grains only.");
            var room = GrainKeys.Room(a.Hub, "/", $"room{rooms.Count}");
            await a.JoinAsync(room, "a1");
            await b.JoinAsync(room, "b1");
            rooms.Add(room);
            before[room] = fixture.SiloOf(GrainId.Create("room", room));
        }

        var victim = before.Values.First(silo => silo != a.Silo && silo != b.Silo);
        var onVictim = rooms.Where(room => before[room] == victim).ToArray();
        a.ClearQueries();
        await fixture.Cluster.KillSiloAsync(victim);

        // Every room takes a message again, and the first message every room sends after the kill reaches both
        // gateways: a room that came back knew both members before it delivered anything.
        foreach (var room in rooms)
        {
            var grain = fixture.Client.GetGrain<IRoomGrain>(room);
            var sequence = await Eventually.Succeeds(() => grain.Publish(MemberGroupGrainTests.Text("after")), $"{room} to take a message", TimeSpan.FromSeconds(60));
            foreach (var gateway in new[] { a, b })
            {
                await Eventually.True(
                    () => gateway.Deliveries.Any(d => d.Key == room && d.Sequence == sequence && d.Payload is not null),
                    $"{gateway.GatewayId} to get {room}'s first message after the kill");
            }

            Assert.Equal(2, await grain.MemberCount().Within("the count"));
        }

        // Only the rooms that lived on the dead silo asked the gateways for their members again.
        Assert.Equal(onVictim.Order(), a.QueriedKeys(DeliveryTarget.Room).Order());
    }
}
