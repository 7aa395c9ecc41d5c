using System.Text;
using Realtime.Contracts;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Grains;

/// <summary>
/// A group (or a hub's grain) whose silo died may have answered a send whose delivery to another gateway never left
/// it. Its new activation asks every gateway what it applied and what it sent lately, and sends each gateway the
/// messages it misses, first: on Orleans' in-process test cluster, with gateways that say what a real one would after
/// the death.
/// </summary>
public sealed class ResentGrainTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    private const string DeadEpoch = "dead01";

    [Fact]
    public async Task RoomComesBack_SendsAGatewayWhatItsPreviousActivationTookButTheGatewayMissed_BeforeAnythingNew()
    {
        var (a, b) = await fixture.TwoGatewaysAsync();
        var room = GrainKeys.Room(a.Hub, "/", "lobby");
        a.Holds(DeliveryTarget.Room, room, "a1");
        b.Holds(DeliveryTarget.Room, room, "b1");

        // b sent 4 and 5 and was answered; a applied up to 3: the deliveries of 4 and 5 to a died with the room's silo.
        a.Knows(DeliveryTarget.Room, room, new GroupPosition(DeadEpoch, 3));
        b.Knows(DeliveryTarget.Room, room, new GroupPosition(DeadEpoch, 5), Sent(4, "four"), Sent(5, "five"));

        var grain = fixture.Client.GetGrain<IRoomGrain>(room);
        var sequence = await grain.Publish(MemberGroupGrainTests.Text("new")).Within("a send to the room that came back");
        Assert.Equal(1, sequence);

        await Eventually.True(() => InChainOrder(a, room).Length == 3, "a to get the two messages it missed and the new one");
        Assert.Equal(
            [(DeliveryKind.Resent, DeadEpoch, 4L, "four"), (DeliveryKind.Resent, DeadEpoch, 5L, "five"), (DeliveryKind.Message, NewEpoch(a, room), 1L, "new")],
            InChainOrder(a, room));

        await Eventually.True(() => InChainOrder(b, room).Length == 1, "b to get the new message");
        Assert.Equal([(DeliveryKind.Message, NewEpoch(b, room), 1L, "new")], InChainOrder(b, room));
        Assert.NotEqual(DeadEpoch, NewEpoch(a, room));

        // Each gateway is told the new epoch after what was sent again and before the new epoch's first message, so
        // that it can say where it stands if this activation dies too.
        foreach (var gateway in new[] { a, b })
        {
            var chain = gateway.Deliveries.Where(d => d.Key == room).OrderBy(d => d.Position).Select(d => d.Kind).ToArray();
            Assert.Equal(gateway == a ? [DeliveryKind.Resent, DeliveryKind.Resent, DeliveryKind.Started, DeliveryKind.Message] : [DeliveryKind.Started, DeliveryKind.Message], chain);
        }
    }

    [Fact]
    public async Task RoomComesBack_SendsNothingAgain_ToAGatewayThatHasItOrFollowsAnotherEpochOrAppliedNothing()
    {
        var (a, b) = await fixture.TwoGatewaysAsync();
        var room = GrainKeys.Room(a.Hub, "/", "lobby");
        var other = GrainKeys.Room(a.Hub, "/", "other");
        a.Holds(DeliveryTarget.Room, room, "a1");
        b.Holds(DeliveryTarget.Room, room, "b1");
        a.Holds(DeliveryTarget.Room, other, "a1");
        b.Holds(DeliveryTarget.Room, other, "b1");

        // lobby: a follows an epoch that came after the dead one's messages; b has them all.
        a.Knows(DeliveryTarget.Room, room, new GroupPosition("later", 1));
        b.Knows(DeliveryTarget.Room, room, new GroupPosition(DeadEpoch, 5), Sent(4, "four"), Sent(5, "five"));

        // other: a says nothing of what it applied (a gateway of an earlier version, or one that applied nothing).
        a.Knows(DeliveryTarget.Room, other, null);
        b.Knows(DeliveryTarget.Room, other, new GroupPosition(DeadEpoch, 5), Sent(5, "five"));

        foreach (var key in new[] { room, other })
        {
            await fixture.Client.GetGrain<IRoomGrain>(key).Publish(MemberGroupGrainTests.Text("new")).Within("a send");
            foreach (var gateway in new[] { a, b })
            {
                await Eventually.True(() => InChainOrder(gateway, key).Length >= 1, $"{gateway.GatewayId} to get the new message of {key}");
                Assert.Equal([(DeliveryKind.Message, NewEpoch(gateway, key), 1L, "new")], InChainOrder(gateway, key));
            }
        }
    }

    [Fact]
    public async Task HubComesBack_SendsAGatewayWhatItsPreviousActivationTookButTheGatewayMissed_BeforeAnythingNew()
    {
        // Two gateways of a hub whose grain is not active: it died with its silo, and asks them when it comes back.
        var hub = GrainClusterFixture.NewHub();
        var a = new FakeGateway(fixture.Client, fixture.Cluster.Silos[0], hub, "a");
        var b = new FakeGateway(fixture.Client, fixture.Cluster.Silos[1], hub, "b");
        a.Knows(DeliveryTarget.Hub, hub, new GroupPosition(DeadEpoch, 3));
        b.Knows(DeliveryTarget.Hub, hub, new GroupPosition(DeadEpoch, 5), Sent(4, "four"), Sent(5, "five"));

        var position = await fixture.Client.GetGrain<IGatewayRegistryGrain>(hub).Send(MemberGroupGrainTests.Text("new")).Within("a send to the hub that came back");
        Assert.Equal(1, position.Sequence);
        Assert.NotEqual(DeadEpoch, position.Epoch);

        await Eventually.True(() => InChainOrder(a, hub).Length == 3, "a to get the two sends it missed and the new one");
        Assert.Equal(
            [(DeliveryKind.Resent, DeadEpoch, 4L, "four"), (DeliveryKind.Resent, DeadEpoch, 5L, "five"), (DeliveryKind.Message, position.Epoch, 1L, "new")],
            InChainOrder(a, hub));
        await Eventually.True(() => InChainOrder(b, hub).Length == 1, "b to get the new send");
        Assert.Equal([(DeliveryKind.Message, position.Epoch, 1L, "new")], InChainOrder(b, hub));
        foreach (var gateway in new[] { a, b })
        {
            var chain = gateway.Deliveries.Where(d => d.Key == hub).OrderBy(d => d.Position).Select(d => d.Kind).ToArray();
            Assert.Equal(gateway == a ? [DeliveryKind.Resent, DeliveryKind.Resent, DeliveryKind.Started, DeliveryKind.Message] : [DeliveryKind.Started, DeliveryKind.Message], chain);
        }
    }

    private static SentMessage Sent(long sequence, string text) => new(new GroupPosition(DeadEpoch, sequence), MemberGroupGrainTests.Text(text));

    private static string NewEpoch(FakeGateway gateway, string key) =>
        gateway.Deliveries.First(d => d.Key == key && d.Kind == DeliveryKind.Message).Epoch!;

    /// <summary>What the gateway got for the group, messages and messages sent again, in the order of its chain.</summary>
    private static (DeliveryKind Kind, string Epoch, long Sequence, string Text)[] InChainOrder(FakeGateway gateway, string key) =>
        [.. gateway.Deliveries.Where(d => d.Key == key && d.Kind is DeliveryKind.Message or DeliveryKind.Resent)
            .OrderBy(d => d.Position)
            .Select(d => (d.Kind, d.Epoch!, d.Sequence, Encoding.UTF8.GetString(d.Payload!.Protocols[0].Bytes.Span)))];
}
