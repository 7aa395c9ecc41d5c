using Orleans.Runtime;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;
using Realtime.Tests.Infrastructure;
using Realtime.Wire;

namespace Realtime.Tests.Core;

/// <summary>
/// The delivery core of a hub (<see cref="LocalHub{THub}"/>) without Kestrel, a protocol or a silo: connections of a
/// test protocol on a fake cluster whose groups number what they send, as the real grains do. What a client of either
/// protocol relies on: it gets what is sent to its namespace, its rooms and itself, in the order sent, once, and
/// nothing after it left.
/// </summary>
public sealed class LocalHubTests
{
    [Fact]
    public async Task Connect_RegistersWithItsNamespaceAndUser_AndTheGatewayWithTheHub()
    {
        var cluster = new FakeCluster();
        var a = new TestConnection(cluster, "a", "/chat", userId: "ann");

        await cluster.Hub.ConnectAsync(a).Within("connect");

        Assert.Equal(["a"], cluster.Namespace("/chat").MemberList.Select(m => m.ConnectionId));
        Assert.Equal(["a"], cluster.User("ann").MemberList.Select(m => m.ConnectionId));
        Assert.Equal(cluster.GatewayId, cluster.Namespace("/chat").MemberList[0].GatewayId);
    }

    [Fact]
    public async Task AConnectionNothingAsksAbout_CostsNoSessionGrain_ThroughJoinsDataAndItsClose()
    {
        var cluster = new FakeCluster();
        await Connected(cluster, "a", "/chat");

        await cluster.Hub.JoinRoomAsync("a", "/chat", "lobby").Within("join");
        await cluster.Hub.LeaveRoomAsync("a", "/chat", "lobby").Within("leave");
        await cluster.Hub.SetDataAsync("a", JsonData.ToElement(new { seat = 1 })).Within("set data");
        await cluster.Hub.DisconnectAsync("a").Within("disconnect");

        Assert.False(cluster.HasSession("a"), "an idle connection cost a session grain");
    }

    [Fact]
    public async Task ReadingTheSessionsOfGroupMembers_GivesRoomsAndData_AndWakesNoSessionGrain()
    {
        // Presence with data and fetchSockets read the members' sessions from their gateway; that is a read, and the
        // connection stays one without a session grain.
        var cluster = new FakeCluster();
        await Connected(cluster, "a", "/chat");
        await Connected(cluster, "b", "/chat");
        await cluster.Hub.JoinRoomAsync("a", "/chat", "lobby").Within("join");
        await cluster.Hub.SetDataAsync("a", JsonData.ToElement(new { seat = 1 })).Within("set data");
        await cluster.Hub.DisconnectAsync("b").Within("b's disconnect");

        var sessions = await cluster.Room("/chat", "lobby").Sessions().Within("the sessions");
        var local = ((Realtime.Grains.Gateways.ILocalGateway)cluster.Receiver).Sessions(nameof(CoreTestHub), ["a", "b", "nobody"]);
        await cluster.Hub.JoinRoomAsync("a", "/chat", "kitchen").Within("join");
        await cluster.Hub.SetDataAsync("a", JsonData.ToElement(new { seat = 2 })).Within("set data");
        await cluster.Hub.DisconnectAsync("a").Within("disconnect");

        var a = Assert.Single(sessions);
        Assert.Equal(("a", "/chat", cluster.GatewayId), (a.Member.ConnectionId, a.Namespace, a.Member.GatewayId));
        Assert.Equal([LocalHub<CoreTestHub>.RoomKeyOf("/chat", "lobby")], a.Rooms);
        Assert.Equal(1, a.Data?.GetProperty("seat").GetInt32());
        Assert.Equal(["a"], local.Select(s => s.Member.ConnectionId));
        Assert.False(cluster.HasSession("a"), "reading the session made the connection tell a session grain of its changes");
    }

    [Fact]
    public async Task ASessionGrainThatAskedForItsConnection_IsToldOfEveryRoomAndDataChangeAfter_AndOfItsClose()
    {
        var cluster = new FakeCluster();
        await Connected(cluster, "a", "/");
        await cluster.Hub.JoinRoomAsync("a", "/", "lobby").Within("join");

        var answer = cluster.AskForSession("a");
        await cluster.Hub.JoinRoomAsync("a", "/", "kitchen").Within("join");
        await cluster.Hub.LeaveRoomAsync("a", "/", "lobby").Within("leave");
        await cluster.Hub.SetDataAsync("a", JsonData.ToElement(new { seat = 2 })).Within("set data");
        await cluster.Hub.DisconnectAsync("a").Within("disconnect");

        Assert.Equal([LocalHub<CoreTestHub>.RoomKeyOf("/", "lobby")], answer?.Rooms);
        Assert.Equal([LocalHub<CoreTestHub>.RoomKeyOf("/", "kitchen")], cluster.Session("a").Rooms);
        Assert.Equal("""{"seat":2}""", cluster.Session("a").Data);
        Assert.Equal((cluster.GatewayId, true), cluster.Session("a").Closed);
        Assert.Null(cluster.AskForSession("a"));
    }

    [Fact]
    public async Task NamespaceBroadcast_ReachesTheNamespacesConnections_AndNoOther()
    {
        var cluster = new FakeCluster();
        var a = await Connected(cluster, "a", "/");
        var b = await Connected(cluster, "b", "/chat");

        await cluster.Hub.SendNamespaceAsync("/", "event", ["hello"], null).Within("broadcast");

        Assert.Equal(["hello"], a.Received);
        Assert.Empty(b.Received);
    }

    [Fact]
    public async Task RoomSend_ReachesItsMembersOnly()
    {
        var cluster = new FakeCluster();
        var a = await Connected(cluster, "a");
        var b = await Connected(cluster, "b");

        Assert.True(await cluster.Hub.JoinRoomAsync("a", "/", "lobby").Within("join"));
        await cluster.Hub.SendRoomAsync("/", "lobby", "event", ["m1"], null).Within("send");

        Assert.Equal(["m1"], a.Received);
        Assert.Empty(b.Received);
        Assert.Equal(["lobby"], cluster.Hub.RoomsOf("a"));
    }

    [Fact]
    public async Task Leave_TheMemberGetsWhatTheRoomSentBeforeIt_EvenWhenTheNoticeComesFirst_AndNothingAfter()
    {
        var cluster = new FakeCluster();
        var a = await Connected(cluster, "a");
        await cluster.Hub.JoinRoomAsync("a", "/", "lobby").Within("join");
        cluster.HoldDeliveries = true;
        await cluster.Hub.SendRoomAsync("/", "lobby", "event", ["before"], null).Within("send");

        var leave = cluster.Hub.LeaveRoomAsync("a", "/", "lobby");
        var held = cluster.TakeHeld();
        Assert.Equal([DeliveryKind.Message, DeliveryKind.MemberLeft], held.Select(d => d.Kind));
        Assert.False(leave.IsCompleted, "the leave returned before the room's notice that the member left");

        cluster.Deliver(held[1]);
        cluster.Deliver(held[0]);
        Assert.True(await leave.Within("leave"));
        cluster.HoldDeliveries = false;
        await cluster.Hub.SendRoomAsync("/", "lobby", "event", ["after"], null).Within("send");

        Assert.Equal(["before"], a.Received);
        Assert.Empty(cluster.Hub.RoomsOf("a"));
    }

    [Fact]
    public async Task ALeaveWhoseNoticeNeverComes_CompletesAfterFiveSecondsOfTheGatewaysClock()
    {
        var cluster = new FakeCluster();
        await Connected(cluster, "a");
        await cluster.Hub.JoinRoomAsync("a", "/", "lobby").Within("join");
        cluster.HoldDeliveries = true;

        var leave = cluster.Hub.LeaveRoomAsync("a", "/", "lobby");
        cluster.Time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(leave.IsCompleted, "the leave gave up on the notice early");
        cluster.Time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.True(await leave.Within("leave"));
    }

    [Fact]
    public async Task ASendToALocalConnection_IsWrittenDirectly_AndOneToAnotherGatewaysGoesThroughItsSession()
    {
        var cluster = new FakeCluster();
        var a = await Connected(cluster, "a");
        var payload = cluster.Hub.Serialize("event", ["direct"]);

        Assert.True(await cluster.Hub.SendConnectionAsync("a", payload).Within("local send"));
        Assert.False(await cluster.Hub.SendConnectionAsync("elsewhere", payload).Within("remote send"));

        Assert.Equal(["direct"], a.Received);
        Assert.Empty(cluster.Session("a").Sent);
        Assert.Single(cluster.Session("elsewhere").Sent);
    }

    [Fact]
    public async Task HubBroadcast_ReachesEveryConnection_ButThoseExcepted()
    {
        var cluster = new FakeCluster();
        var a = await Connected(cluster, "a", "/");
        var b = await Connected(cluster, "b", "/chat");
        var c = await Connected(cluster, "c", "/chat");

        await cluster.Hub.SendHubAsync(cluster.Hub.Serialize("event", ["all"]), ["c"]).Within("broadcast");

        Assert.Equal(["all"], a.Received);
        Assert.Equal(["all"], b.Received);
        Assert.Empty(c.Received);
    }

    [Fact]
    public async Task ARoomClosed_ItsLocalMembersLeaveIt_AreTold_AndGetNothingMoreFromIt()
    {
        var cluster = new FakeCluster();
        var a = await Connected(cluster, "a");
        await cluster.Hub.JoinRoomAsync("a", "/", "lobby").Within("join");

        Assert.Equal(1, await cluster.Hub.CloseRoomAsync("/", "lobby").Within("close"));
        await cluster.Hub.SendRoomAsync("/", "lobby", "event", ["after"], null).Within("send");

        Assert.Equal(["lobby"], a.ClosedRooms);
        Assert.Empty(cluster.Hub.RoomsOf("a"));
        Assert.Empty(a.Received);
    }

    [Fact]
    public async Task Disconnect_LeavesRoomsNamespaceAndUser_AndKeepsTheSessionForItsClient()
    {
        var cluster = new FakeCluster();
        await Connected(cluster, "a", "/", userId: "ann");
        await cluster.Hub.JoinRoomAsync("a", "/", "lobby").Within("join");
        Assert.NotNull(cluster.AskForSession("a")); // a session grain exists (a resume token was asked for, say)

        await cluster.Hub.DisconnectAsync("a").Within("disconnect");

        Assert.Empty(cluster.Room("/", "lobby").MemberList);
        Assert.Empty(cluster.Namespace("/").MemberList);
        Assert.Empty(cluster.User("ann").MemberList);
        Assert.Equal((cluster.GatewayId, true), cluster.Session("a").Closed);
    }

    [Fact]
    public async Task Resume_ReplaysWhatTheOldConnectionMissed_InOrder_AndNothingTheNewOneGotAlready()
    {
        var cluster = new FakeCluster();
        var lobby = LocalHub<CoreTestHub>.RoomKeyOf("/", "lobby");
        cluster.Session("old").Claimable = ("secret", new SessionInfo(nameof(CoreTestHub), "/", new Member("old", cluster.GatewayId, null), [lobby], null));
        foreach (var text in new[] { "m1", "m2", "m3" })
        {
            await cluster.Hub.SendRoomAsync("/", "lobby", "event", [text], null).Within("a room send");
        }

        await cluster.Hub.SendNamespaceAsync("/", "event", ["b1"], null).Within("a broadcast");
        await cluster.Hub.SendNamespaceAsync("/", "event", ["b2"], null).Within("a broadcast");

        // The client comes back on a new connection, which gets a broadcast before it asks for its session.
        var back = await Connected(cluster, "new");
        await cluster.Hub.SendNamespaceAsync("/", "event", ["b3"], null).Within("a broadcast");
        var result = await cluster.Hub.ResumeAsync("new", "old", "secret", [
            new ResumePosition("lobby", cluster.Room("/", "lobby").Epoch, 1),
            new ResumePosition(null, cluster.Namespace("/").Epoch, 1),
        ]).Within("resume");

        Assert.True(result.Recovered);
        Assert.Equal(["lobby"], result.Rooms);
        Assert.Equal(3, result.Replayed);
        Assert.Empty(result.Lost);
        Assert.Equal(["b3", "m2", "m3", "b2"], back.Received);

        // The live flow goes on after the replay, and the session is taken back once.
        await cluster.Hub.SendRoomAsync("/", "lobby", "event", ["m4"], null).Within("a room send");
        Assert.Equal(["b3", "m2", "m3", "b2", "m4"], back.Received);
        Assert.False((await cluster.Hub.ResumeAsync("new", "old", "secret", []).Within("resume again")).Recovered);
    }

    [Fact]
    public async Task Resume_WithBadArgumentsOrFromAnotherNamespace_IsAnsweredClearly_AndDoesNotUseTheSessionUp()
    {
        var cluster = new FakeCluster();
        var old = cluster.Session("old");
        old.Claimable = ("secret", new SessionInfo(nameof(CoreTestHub), "/", new Member("old", cluster.GatewayId, null), [], null));
        await Connected(cluster, "new");
        await Connected(cluster, "elsewhere", "/other");

        foreach (var (positions, error) in new (ResumePosition?[], string)[]
        {
            ([null], "position 0: it is null"),
            ([new ResumePosition("lobby", null!, 1)], "position 0: it has no epoch"),
            ([new ResumePosition(null, "e1", 1), new ResumePosition("lobby", "e1", -1)], "position 1: it has a negative seq"),
            ([new ResumePosition("lobby", "e1", 1), new ResumePosition("lobby", "e1", 2)], "position 1: it repeats room 'lobby'"),
        })
        {
            var refused = await Assert.ThrowsAsync<RejectedHubException>(() => cluster.Hub.ResumeAsync("new", "old", "secret", positions).Within("a resume with bad positions"));
            Assert.Equal(RejectionReason.InvalidInput, refused.Reason);
            Assert.Contains(error, refused.Message);
        }

        await Assert.ThrowsAsync<RejectedHubException>(() => cluster.Hub.ResumeAsync("new", "old", "", []).Within("a resume without a token"));
        Assert.False((await cluster.Hub.ResumeAsync("elsewhere", "old", "secret", []).Within("a resume from another namespace")).Recovered);

        Assert.True((await cluster.Hub.ResumeAsync("new", "old", "secret", []).Within("the resume")).Recovered, "nothing before used the session up");
    }

    internal static async Task<TestConnection> Connected(FakeCluster cluster, string connectionId, string @namespace = "/", string? userId = null)
    {
        var connection = new TestConnection(cluster, connectionId, @namespace, userId);
        await cluster.Hub.ConnectAsync(connection).Within("connect");
        return connection;
    }
}
