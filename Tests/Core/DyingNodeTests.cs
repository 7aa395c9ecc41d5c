using Orleans.Runtime;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Core;

/// <summary>
/// A hub's calls to the grains while a node dies (<see cref="LocalHub{THub}"/> on a fake cluster whose grains fail as
/// a dead silo's do): a connection's registration and a join are made again until the cluster has declared the node
/// dead, for up to five seconds of the gateway's clock; one that still fails leaves nothing behind, and a resume gives
/// its session back for the client's retry.
/// </summary>
public sealed class DyingNodeTests
{
    [Fact]
    public async Task AJoinThatFails_LeavesNothingBehind_HereOrInTheRoom()
    {
        var cluster = new FakeCluster();
        var a = await LocalHubTests.Connected(cluster, "a");
        var room = cluster.Room("/", "lobby");
        room.Fail = int.MaxValue;

        // Its node dying, the join is made again for five seconds, then fails.
        var join = cluster.Hub.JoinRoomAsync("a", "/", "lobby");
        await RetriedUntilItEndsAsync(cluster, join, "the join");
        await Assert.ThrowsAsync<SiloUnavailableException>(() => join.Within("join"));
        room.Fail = 0;
        await cluster.Hub.SendRoomAsync("/", "lobby", "event", ["m1"], null).Within("send");

        Assert.Empty(cluster.Hub.RoomsOf("a"));
        Assert.Empty(a.Received);
        Assert.Empty(room.MemberList);
    }

    [Fact]
    public async Task Resume_ThatFailsOnTheCluster_GivesTheSessionBack_SoThatTheRetryResumesIt()
    {
        var cluster = new FakeCluster();
        var lobby = LocalHub<CoreTestHub>.RoomKeyOf("/", "lobby");
        var old = cluster.Session("old");
        old.Claimable = ("secret", new SessionInfo(nameof(CoreTestHub), "/", new Member("old", cluster.GatewayId, null), [lobby], null));
        await cluster.Hub.SendRoomAsync("/", "lobby", "event", ["m1"], null).Within("a room send");
        await cluster.Hub.SendRoomAsync("/", "lobby", "event", ["m2"], null).Within("a room send");
        var back = await LocalHubTests.Connected(cluster, "new");
        ResumePosition[] at = [new ResumePosition("lobby", cluster.Room("/", "lobby").Epoch, 1)];

        // The room's silo is dying, for longer than a join is made again: the join fails, and the client hears of it.
        cluster.Room("/", "lobby").Fail = int.MaxValue;
        var resume = cluster.Hub.ResumeAsync("new", "old", "secret", at);
        await RetriedUntilItEndsAsync(cluster, resume, "the resume's join");
        await Assert.ThrowsAnyAsync<Exception>(() => resume.Within("a resume that fails"));
        Assert.Null(old.ClaimedBy);
        cluster.Room("/", "lobby").Fail = 0;

        // Its retry finds the session and gets what it missed.
        var result = await cluster.Hub.ResumeAsync("new", "old", "secret", at).Within("the retry");
        Assert.True(result.Recovered, "the failed resume gave the session back");
        Assert.Equal(["m2"], back.Received);
        Assert.Null(old.Claimable);
    }

    [Fact]
    public async Task ARegistrationThatMeetsADyingNode_IsMadeAgain_UntilTheClusterAnswers()
    {
        var cluster = new FakeCluster();
        cluster.Namespace("/").Fail = 2;
        var a = new TestConnection(cluster, "a", "/");

        var connect = cluster.Hub.ConnectAsync(a);
        await RetriedAsync(cluster, 2, "the registration");

        await connect.Within("connect");
        Assert.Equal(["a"], cluster.Namespace("/").MemberList.Select(m => m.ConnectionId));
    }

    [Fact]
    public async Task AJoinThatMeetsADyingNode_IsMadeAgain_UntilTheRoomAnswers()
    {
        var cluster = new FakeCluster();
        var a = new TestConnection(cluster, "a", "/");
        await cluster.Hub.ConnectAsync(a).Within("connect");
        var room = cluster.Room("/", "lobby");
        room.Fail = 2;

        var join = cluster.Hub.JoinRoomAsync("a", "/", "lobby");
        await RetriedAsync(cluster, 2, "the join");

        Assert.True(await join.Within("join"));
        Assert.Equal(["a"], room.MemberList.Select(m => m.ConnectionId));
        Assert.Equal(["lobby"], cluster.Hub.RoomsOf("a"));
    }

    [Fact]
    public async Task ARegistrationTheClusterNeverAnswers_FailsAfterFiveSeconds()
    {
        var cluster = new FakeCluster();
        cluster.Namespace("/").Fail = int.MaxValue;

        var connect = cluster.Hub.ConnectAsync(new TestConnection(cluster, "a", "/"));
        await RetriedUntilItEndsAsync(cluster, connect, "the registration");

        await Assert.ThrowsAsync<SiloUnavailableException>(() => connect.Within("connect"));
        Assert.True(cluster.Time.GetUtcNow() >= new DateTimeOffset(2026, 1, 1, 0, 0, 5, TimeSpan.Zero), "it gave up before five seconds");
    }

    /// <summary>Moves the gateway's clock on 200 ms, <paramref name="times"/> times, each once a call waits to try again.</summary>
    private static async Task RetriedAsync(FakeCluster cluster, int times, string what)
    {
        for (var retry = 0; retry < times; retry++)
        {
            await Eventually.True(() => cluster.Time.PendingTimers > 0, $"{what} waits to try again");
            cluster.Time.Advance(TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>
    /// Moves the gateway's clock on, 200 ms at a time, while <paramref name="call"/> waits to try again (a call that
    /// meets a dying node is made again for up to five seconds), until it ends.
    /// </summary>
    private static async Task RetriedUntilItEndsAsync(FakeCluster cluster, Task call, string what)
    {
        for (var step = 0; step < 100 && !call.IsCompleted; step++)
        {
            await Eventually.True(() => call.IsCompleted || cluster.Time.PendingTimers > 0, $"{what} to wait to try again");
            cluster.Time.Advance(TimeSpan.FromMilliseconds(200));
        }
    }
}
