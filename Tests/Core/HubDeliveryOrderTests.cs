using Orleans.Runtime;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;
using Realtime.Tests.Infrastructure;
using Realtime.Wire;

namespace Realtime.Tests.Core;

/// <summary>
/// The order of a hub's deliveries (<see cref="LocalHub{THub}"/> on the fake cluster, its deliveries held back and
/// handed over in any order, twice or never): each member gets a group's messages in the order the group sent them,
/// once; one lost on its way is read from the group's history or named to the members, never skipped in silence; and a
/// group's order holds while its last members here leave.
/// </summary>
public sealed class HubDeliveryOrderTests
{
    [Fact]
    public async Task DeliveriesThatArriveOutOfOrder_AreWrittenInTheOrderTheRoomSentThem()
    {
        var cluster = new FakeCluster();
        var (a, held) = await HeldRoomSendsAsync(cluster, "a", "m1", "m2", "m3");
        cluster.Deliver(held[2]);
        cluster.Deliver(held[0]);
        Assert.Equal(["m1"], a.Received);
        cluster.Deliver(held[1]);

        Assert.Equal(["m1", "m2", "m3"], a.Received);
    }

    [Fact]
    public async Task ADeliveryThatArrivesTwice_IsWrittenOnce()
    {
        var cluster = new FakeCluster();
        var a = await LocalHubTests.Connected(cluster, "a");
        await cluster.Hub.JoinRoomAsync("a", "/", "lobby").Within("join");
        cluster.HoldDeliveries = true;
        await cluster.Hub.SendRoomAsync("/", "lobby", "event", ["m1"], null).Within("send");
        var delivery = Assert.Single(cluster.TakeHeld());

        cluster.Deliver(delivery);
        cluster.Deliver(delivery);

        Assert.Equal(["m1"], a.Received);
    }

    [Fact]
    public async Task ADeliveryLostInFlight_IsReadFromTheRoomsHistory_AndDeliveredInItsPlace_NeverSkipped()
    {
        var cluster = new FakeCluster();
        var (alice, held) = await HeldRoomSendsAsync(cluster, "alice", "m1", "m2", "m3", "m4");

        // The second delivery was on its way when its silo died: it never comes.
        cluster.Deliver(held[0]);
        cluster.Deliver(held[2]);
        cluster.Deliver(held[3]);
        Assert.Equal(["m1"], alice.Received);

        cluster.Time.Advance(DeliveryOrder.GapTimeout);
        await Eventually.True(() => alice.Received.Count == 4, "the rest to arrive");
        Assert.Equal(["m1", "m2", "m3", "m4"], alice.Received);
        Assert.Empty(alice.MissedRuns);

        // The original comes after all: a duplicate, dropped.
        cluster.Deliver(held[1]);
        await cluster.Hub.SendRoomAsync("/", "lobby", "event", ["m5"], null).Within("a room send");
        Assert.Equal(["m1", "m2", "m3", "m4", "m5"], alice.Received);
    }

    [Fact]
    public async Task ADeliveryLostInFlight_ThatTheHistoryNoLongerHolds_IsNamedToTheMembers_AndTheRestGoOn()
    {
        var cluster = new FakeCluster();
        var (alice, held) = await HeldRoomSendsAsync(cluster, "alice", "m1", "m2", "m3");
        cluster.Room("/", "lobby").HistoryLost = true;
        cluster.Deliver(held[0]);
        cluster.Deliver(held[2]);

        cluster.Time.Advance(DeliveryOrder.GapTimeout);
        await Eventually.True(() => alice.Received.Count == 2, "the rest to go on");
        Assert.Equal(["m1", "m3"], alice.Received);
        Assert.Equal([("lobby", (long?)2, 2L)], alice.MissedRuns);
        Assert.Equal(1, cluster.Room("/", "lobby").HistoryReads);
    }

    [Fact]
    public async Task AConnectionThatComesWhileTheLastOneHereLeaves_GetsTheNamespaceAtOnce_AndIsToldOfNoGap()
    {
        // The grain may have the new connection before the old one's disconnect: it then goes on numbering this
        // gateway's deliveries where it was, and the gateway must not take that for a run of lost deliveries.
        var cluster = new FakeCluster();
        var a = await LocalHubTests.Connected(cluster, "a");
        await cluster.Hub.SendNamespaceAsync("/", "event", ["m1"], null).Within("a broadcast");
        var slow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.Namespace("/").DisconnectsWaitFor = slow.Task;

        var disconnect = cluster.Hub.DisconnectAsync("a");
        var b = await LocalHubTests.Connected(cluster, "b");
        await cluster.Hub.SendNamespaceAsync("/", "event", ["m2"], null).Within("a broadcast");
        Assert.Equal(["m2"], b.Received);

        slow.SetResult();
        await disconnect.Within("the disconnect");
        await cluster.Hub.SendNamespaceAsync("/", "event", ["m3"], null).Within("a broadcast");
        cluster.Time.Advance(DeliveryOrder.GapTimeout);
        Assert.Equal(["m2", "m3"], b.Received);
        Assert.Empty(b.MissedRuns);
        Assert.Equal(["m1"], a.Received);
    }

    [Fact]
    public async Task TwoLeavesOnTheirWay_KeepTheNamespacesOrderUntilTheGrainHasBoth()
    {
        // The leave that answers first may not be the last one the grain is still to have: a connection that comes
        // meanwhile reaches a grain that still counts the other, which goes on with this gateway's chain.
        var cluster = new FakeCluster();
        await LocalHubTests.Connected(cluster, "a");
        var slowA = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.Namespace("/").DisconnectsWaitFor = slowA.Task;
        var disconnectA = cluster.Hub.DisconnectAsync("a");
        var b = await LocalHubTests.Connected(cluster, "b");
        await cluster.Hub.SendNamespaceAsync("/", "event", ["m1"], null).Within("a broadcast");
        var slowB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.Namespace("/").DisconnectsWaitFor = slowB.Task;
        var disconnectB = cluster.Hub.DisconnectAsync("b");

        slowA.SetResult();
        await disconnectA.Within("a's disconnect");
        var c = await LocalHubTests.Connected(cluster, "c");
        await cluster.Hub.SendNamespaceAsync("/", "event", ["m2"], null).Within("a broadcast");
        Assert.Equal(["m2"], c.Received);

        slowB.SetResult();
        await disconnectB.Within("b's disconnect");
        await cluster.Hub.SendNamespaceAsync("/", "event", ["m3"], null).Within("a broadcast");
        cluster.Time.Advance(DeliveryOrder.GapTimeout);
        Assert.Equal(["m2", "m3"], c.Received);
        Assert.Empty(c.MissedRuns);
        Assert.Equal(["m1"], b.Received);
    }

    [Fact]
    public void AGroupLeftWithoutMembers_IsKeptUntilItsGrainHasTheLeave_AndNoLonger()
    {
        var orders = 0;
        var index = new LocalIndex((_, _) =>
        {
            orders++;
            return new DeliveryOrder(_ => { }, (_, _, _) => { }, TimeProvider.System);
        });
        var cluster = new FakeCluster();
        index.Add("room", new TestConnection(cluster, "a", "/"));

        var emptied = index.RemoveKeeping("room", "a");
        Assert.NotNull(emptied);
        Assert.Same(emptied, index.Group("room"));
        Assert.Empty(index.Counts());

        index.Add("room", new TestConnection(cluster, "b", "/"));
        index.Drop("room", emptied);
        Assert.Same(emptied, index.Group("room")); // b joined meanwhile: the same order goes on
        Assert.Equal(1, orders);

        index.Drop("room", index.RemoveKeeping("room", "b"));
        Assert.Null(index.Group("room"));
    }

    /// <summary>
    /// A connection in room "lobby", and the deliveries of <paramref name="texts"/> sent to the room, held back for the
    /// test to deliver in any order, or not at all; what is sent afterwards is delivered as usual.
    /// </summary>
    private static async Task<(TestConnection Member, List<Delivery> Held)> HeldRoomSendsAsync(FakeCluster cluster, string connectionId, params string[] texts)
    {
        var member = await LocalHubTests.Connected(cluster, connectionId);
        await cluster.Hub.JoinRoomAsync(connectionId, "/", "lobby").Within("the join");
        cluster.HoldDeliveries = true;
        foreach (var text in texts)
        {
            await cluster.Hub.SendRoomAsync("/", "lobby", "event", [text], null).Within("a room send");
        }

        var held = cluster.TakeHeld();
        cluster.HoldDeliveries = false;
        return (member, held);
    }
}
