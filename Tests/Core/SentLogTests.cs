using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Realtime.Contracts;
using Realtime.Gateway;
using Realtime.Gateway.Core;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Core;

/// <summary>
/// What a gateway keeps of its sends, so that a group whose silo died right after answering one can send it again to
/// the gateways it missed: every send a group took, with where the group numbered it, within the log's bounds; and
/// what the gateway tells a group's new activation.
/// </summary>
public sealed class SentLogTests
{
    private readonly FakeCluster _cluster = new();

    [Fact]
    public void SendsAreKeptWithTheirPositions_OldestFirst_ACallOfSeveralNumberedOneAfterTheOther()
    {
        var (log, _) = Log(keep: 16);
        var room = _cluster.Room("/", "lobby");

        log.Add(room, new GroupPosition("e1", 1), [Text("one")]);
        log.Add(room, new GroupPosition("e1", 4), [Text("two"), Text("three"), Text("four")]);

        Assert.Equal([("e1", 1L, "one"), ("e1", 2L, "two"), ("e1", 3L, "three"), ("e1", 4L, "four")], Kept(log, room));
        Assert.Empty(log.Of(_cluster.Room("/", "other")));
    }

    [Fact]
    public void TheLogKeepsItsCapacity_AllGroupsTogether_DroppingTheOldest()
    {
        var (log, _) = Log(keep: 3);
        var lobby = _cluster.Room("/", "lobby");
        var kitchen = _cluster.Room("/", "kitchen");

        log.Add(lobby, new GroupPosition("e1", 1), [Text("l1")]);
        log.Add(kitchen, new GroupPosition("e2", 1), [Text("k1")]);
        log.Add(lobby, new GroupPosition("e1", 2), [Text("l2")]);
        log.Add(kitchen, new GroupPosition("e2", 2), [Text("k2")]);

        Assert.Equal([("e1", 2L, "l2")], Kept(log, lobby));
        Assert.Equal([("e2", 1L, "k1"), ("e2", 2L, "k2")], Kept(log, kitchen));
        Assert.Equal(3, log.Count);
    }

    [Fact]
    public void ASendIsKeptForKeepSentFor_ThenDropped()
    {
        var (log, clock) = Log(keep: 16);
        var room = _cluster.Room("/", "lobby");
        log.Add(room, new GroupPosition("e1", 1), [Text("old")]);
        clock.Advance(TimeSpan.FromSeconds(6));
        log.Add(room, new GroupPosition("e1", 2), [Text("new")]);

        clock.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal([("e1", 2L, "new")], Kept(log, room));
        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(0, log.Count);
        Assert.Empty(log.Of(room));
        Assert.Empty(log.Groups());
    }

    [Fact]
    public void AGroupNumberingInANewEpoch_DropsWhatWasKeptOfTheOld_AndTheBoundsStillDropTheRightOnes()
    {
        var (log, _) = Log(keep: 4);
        var lobby = _cluster.Room("/", "lobby");
        var kitchen = _cluster.Room("/", "kitchen");
        log.Add(lobby, new GroupPosition("old", 7), [Text("o6"), Text("o7")]);

        log.Add(lobby, new GroupPosition("new", 1), [Text("n1")]);
        Assert.Equal([("new", 1L, "n1")], Kept(log, lobby));
        Assert.Equal(1, log.Count);

        // The old epoch's two places in the log come out first, and take nothing of the new one's with them.
        log.Add(kitchen, new GroupPosition("k", 2), [Text("k1"), Text("k2")]);
        Assert.Equal([("new", 1L, "n1")], Kept(log, lobby));
        log.Add(kitchen, new GroupPosition("k", 3), [Text("k3")]);
        Assert.Equal([("new", 1L, "n1")], Kept(log, lobby));
        log.Add(kitchen, new GroupPosition("k", 4), [Text("k4")]);
        Assert.Empty(log.Of(lobby));
        Assert.Equal([("k", 1L, "k1"), ("k", 2L, "k2"), ("k", 3L, "k3"), ("k", 4L, "k4")], Kept(log, kitchen));
        Assert.Equal(4, log.Count);
    }

    [Fact]
    public void NothingIsKept_WhenTheLogIsOff_OrAnotherSiloDoesNotAnswerWithPositions()
    {
        var options = Options.Create(new GatewayOptions { KeepSent = 0 });
        Assert.False(new SentLog(options, new ManualTimeProvider(), NullLogger<SentLog>.Instance, static () => true).Keeps);
        options = Options.Create(new GatewayOptions { KeepSentFor = TimeSpan.Zero });
        Assert.False(new SentLog(options, new ManualTimeProvider(), NullLogger<SentLog>.Instance, static () => true).Keeps);
        Assert.False(new SentLog(Options.Create(new GatewayOptions()), new ManualTimeProvider(), NullLogger<SentLog>.Instance, static () => false).Keeps);
        Assert.True(new SentLog(Options.Create(new GatewayOptions()), new ManualTimeProvider(), NullLogger<SentLog>.Instance, static () => true).Keeps);
    }

    [Fact]
    public async Task AGatewaysSendToARoom_IsKept_AndWhatItAppliedAndSentIsWhatItTellsTheRoomsNewActivation()
    {
        var cluster = new FakeCluster(keepSends: true);
        var a = new TestConnection(cluster, "a", "/");
        await cluster.Hub.ConnectAsync(a).Within("connect");
        var room = cluster.Room("/", "lobby");
        await cluster.Hub.JoinRoomAsync("a", "/", "lobby").Within("join");
        var hub = (ILocalHub)cluster.Hub;

        // Joined: the gateway knows where the room stood, before any message.
        Assert.Equal(new GroupPosition(room.Epoch, 0), hub.GroupState(DeliveryTarget.Room, room.Key).Applied);

        await cluster.Hub.SendRoomAsync("/", "lobby", "chat", ["hello"], null).Within("a send");
        await cluster.Hub.SendRoomAsync("/", "lobby", "chat", ["again"], null).Within("a send");

        var state = hub.GroupState(DeliveryTarget.Room, room.Key);
        Assert.Equal(["a"], state.Members.Select(m => m.ConnectionId));
        Assert.Equal(new GroupPosition(room.Epoch, 2), state.Applied);
        Assert.Equal([new GroupPosition(room.Epoch, 1), new GroupPosition(room.Epoch, 2)], state.Sent.Select(s => s.At));
        Assert.Equal(room.Published, state.Sent.Select(s => s.Publication));
    }

    [Fact]
    public async Task AGatewaysSendToTheWholeHub_IsKept_AndWhatItAppliedAndSentIsWhatItTellsTheHubsNewActivation()
    {
        var cluster = new FakeCluster(keepSends: true);
        var a = new TestConnection(cluster, "a", "/");
        await cluster.Hub.ConnectAsync(a).Within("connect");
        var hub = (ILocalHub)cluster.Hub;

        await cluster.Hub.SendHubAsync(cluster.Hub.Serialize("chat", ["hello"]), null).Within("a send to the hub");
        await cluster.Hub.SendHubAsync(cluster.Hub.Serialize("chat", ["again"]), ["a"]).Within("a send to the hub but a");

        var state = hub.GroupState(DeliveryTarget.Hub, nameof(CoreTestHub));
        var registry = cluster.Registry;
        Assert.Empty(state.Members);
        Assert.Equal(new GroupPosition(registry.Epoch, 2), state.Applied);
        Assert.Equal([new GroupPosition(registry.Epoch, 1), new GroupPosition(registry.Epoch, 2)], state.Sent.Select(s => s.At));
        Assert.Equal(registry.Published, state.Sent.Select(s => s.Publication));
    }

    [Fact]
    public void SendsToTheWholeHub_AreKeptOnlyWhileEverySiloAnswersThemWithTheirPosition()
    {
        var options = Options.Create(new GatewayOptions());
        Assert.False(new SentLog(options, new ManualTimeProvider(), NullLogger<SentLog>.Instance, static () => true, clusterKeepsHubSends: static () => false).KeepsHubSends);
        Assert.True(new SentLog(options, new ManualTimeProvider(), NullLogger<SentLog>.Instance, static () => true, clusterKeepsHubSends: static () => true).KeepsHubSends);
        Assert.False(new SentLog(Options.Create(new GatewayOptions { KeepSent = 0 }), new ManualTimeProvider(), NullLogger<SentLog>.Instance, static () => true, clusterKeepsHubSends: static () => true).KeepsHubSends);
    }

    [Fact]
    public async Task ANodeDeclaredDeadWhileTheGroupsOfAnEarlierDeathAreStillRetried_HasItsGroupsCalledAtOnce()
    {
        var clock = new ManualTimeProvider();
        var membership = new FakeMembership();
        using var log = new SentLog(Options.Create(new GatewayOptions()), clock, NullLogger<SentLog>.Instance, static () => true, membership);

        // The first death's group fails its call, and waits on the clock (never moved here) to call again.
        var first = _cluster.Room("/", "first");
        var firstCalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        first.OnMemberCount = () =>
        {
            firstCalled.TrySetResult();
            return Task.FromException<int>(new SiloUnavailableException("still settling"));
        };
        log.Add(first, new GroupPosition("e1", 1), [Text("one")]);
        membership.Declare(SiloStatus.Dead, 1);
        await firstCalled.Task.Within("the first death's group called");

        // A second node dies meanwhile: its group, which took a send since, is called without waiting for the first.
        var second = _cluster.Room("/", "second");
        var secondCalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        second.OnMemberCount = () =>
        {
            secondCalled.TrySetResult();
            return Task.FromResult(0);
        };
        log.Add(second, new GroupPosition("e2", 1), [Text("two")]);
        membership.Declare(SiloStatus.Dead, 1, 2);
        await secondCalled.Task.Within("the second death's group called while the first is still retried");
    }

    private (SentLog Log, ManualTimeProvider Clock) Log(int keep)
    {
        var clock = new ManualTimeProvider();
        var options = Options.Create(new GatewayOptions { KeepSent = keep, KeepSentFor = TimeSpan.FromSeconds(10) });
        return (new SentLog(options, clock, NullLogger<SentLog>.Instance, static () => true), clock);
    }

    private static (string Epoch, long Sequence, string Text)[] Kept(SentLog log, IMemberGroupGrain group) =>
        [.. log.Of(group).Select(s => (s.At.Epoch, s.At.Sequence, Encoding.UTF8.GetString(s.Publication.Payload.Protocols[0].Bytes.Span)))];

    private static Publication Text(string text) => new(new SerializedPayload([new ProtocolPayload("json", Encoding.UTF8.GetBytes(text))]));
}
