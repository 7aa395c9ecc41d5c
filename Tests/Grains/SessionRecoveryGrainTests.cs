using System.Text;
using Realtime.Contracts;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Grains;

/// <summary>
/// What socket.io connection state recovery relies on in the grains, on Orleans' in-process test cluster: a
/// recoverable session keeps what is sent to its connection, hands its rooms over once, and ignores the late close of
/// a connection it no longer belongs to; rooms keep filtered messages with their filters.
/// </summary>
public sealed class SessionRecoveryGrainTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Recoverable_ClosedByItsGateway_HandsOverRoomsAndJoins_AndKeepsWhatWasSentMeanwhile()
    {
        var (a, b) = await fixture.TwoGatewaysAsync();
        var (session, connection, token) = await OpenAsync(a);
        var room = GrainKeys.Room(a.Hub, "/", "lobby");
        var joined = new GroupPosition("0123456789ab", 7);
        await session.AddRoom(room, joined).Within("the join's record");
        Assert.True(await session.Send(Text("one")).Within("a send while open"));
        await Eventually.True(() => a.Deliveries.Any(d => d.Target == DeliveryTarget.Connection && d.Key == connection), "a gets it");
        var epoch = a.Deliveries.Single(d => d.Key == connection).Epoch!;

        await session.Close(a.GatewayId, keepForResume: true).Within("the close");
        Assert.True(await session.Send(Text("two")).Within("a send while closed"), "kept for the recovery");

        var recovery = await session.Recover(token, null, b.GatewayId).Within("the recovery");
        Assert.NotNull(recovery);
        Assert.Equal([room], recovery.Session.Rooms);
        Assert.Equal([new RoomJoin(room, joined)], recovery.Joins);
        Assert.Equal(epoch, recovery.Epoch);
        var missed = await session.Since(epoch, 1).Within("what it missed");
        Assert.True(missed.Complete);
        Assert.Equal(["two"], missed.Messages.Select(m => Encoding.UTF8.GetString(m.Payload.Protocols[0].Bytes.Span)));
        Assert.False((await session.Since("ffffffffffff", 1).Within("another epoch")).Complete);

        // Taken once: while b recovers it, another gateway cannot (b itself may try again, its first answer lost).
        Assert.Null(await session.Recover(token, null, a.GatewayId).Within("a second recovery, on a"));

        // Opened again under its id on b, with its secret; a late close from a changes nothing.
        Assert.Equal(token, await session.OpenRecoverable(Info(b, connection), Window).Within("the reopen"));
        await session.Close(a.GatewayId, keepForResume: false).Within("a's late close");
        Assert.Equal(b.GatewayId, (await session.Get().Within("the session"))?.Member.GatewayId);
        Assert.True(await session.Send(Text("three")).Within("a send on b"));
        await Eventually.True(() => b.Deliveries.Any(d => d.Key == connection && d.Sequence == 3), "b gets the next one, numbered on");
    }

    [Fact]
    public async Task Recover_WithAWrongSecretOrUser_OrAfterAClosedOnPurpose_IsRefused()
    {
        var (a, b) = await fixture.TwoGatewaysAsync();
        var (session, _, token) = await OpenAsync(a);
        Assert.Null(await session.Recover(token + "x", null, b.GatewayId).Within("a wrong secret"));
        Assert.Null(await session.Recover(token, "mallory", b.GatewayId).Within("another user"));

        await session.Close(a.GatewayId, keepForResume: false).Within("a close on purpose");
        Assert.Null(await session.Recover(token, null, b.GatewayId).Within("after a close on purpose"));
        Assert.False(await session.Send(Text("lost")).Within("a send"), "nobody will recover it: the send is refused");
    }

    [Fact]
    public async Task Recover_WhileStillOpen_TakesItFromTheOldGateway_AndAGivenUpRecoveryForgetsIt()
    {
        var (a, b) = await fixture.TwoGatewaysAsync();
        var (session, _, token) = await OpenAsync(a);

        // The client came back through b before a noticed that it left.
        Assert.NotNull(await session.Recover(token, null, b.GatewayId).Within("the recovery"));
        Assert.Null(await session.Get().Within("the session"));
        Assert.True(await session.Send(Text("waits")).Within("a send meanwhile"), "kept while b recovers it");

        // b gives the recovery up (the client missed too much): the session is forgotten.
        await session.Close(b.GatewayId, keepForResume: false).Within("b gives up");
        Assert.False(await session.Send(Text("lost")).Within("a send after"));
    }

    [Fact]
    public async Task Claim_IsHeldForOneGateway_GivenBackWhenItsResumeFails_AndTakenOnceWhenItWorks()
    {
        var (a, b) = await fixture.TwoGatewaysAsync();
        var connectionId = $"c{Guid.NewGuid():N}"[..20];
        var session = fixture.Client.GetGrain<ISessionGrain>(GrainKeys.Session(a.Hub, connectionId));
        var room = GrainKeys.Room(a.Hub, "/", "lobby");
        await session.Open(Info(a, connectionId)).Within("the open");
        await session.AddRoom(room, null).Within("the join's record");
        var token = await session.Resumable().Within("the secret");
        await session.Close(a.GatewayId, keepForResume: true).Within("the close");

        // A claim for another namespace or hub is refused and does not use the session up.
        Assert.Null(await session.Claim(token, null, a.Hub, "/other", b.GatewayId).Within("a claim from another namespace"));
        Assert.Null(await session.Claim(token, null, "AnotherHub", "/", b.GatewayId).Within("a claim from another hub"));

        // Held for b while its resume runs: nobody else takes it, and only b ends the claim.
        Assert.Equal([room], (await session.Claim(token, null, a.Hub, "/", b.GatewayId).Within("b's claim"))?.Rooms);
        Assert.Null(await session.Claim(token, null, a.Hub, "/", a.GatewayId).Within("a claim while b holds it"));
        Assert.NotNull(await session.Claim(token, null, a.Hub, "/", b.GatewayId).Within("b's second try, after its first answer was lost"));
        await session.EndClaim(a.GatewayId, resumed: true).Within("an end from a gateway that holds no claim");

        // b's resume failed: the session is given back, rooms and all, and the client's next try gets it.
        await session.EndClaim(b.GatewayId, resumed: false).Within("b gives it back");
        Assert.Equal([room], (await session.Claim(token, null, a.Hub, "/", a.GatewayId).Within("the retry's claim"))?.Rooms);

        // That resume worked: the session is taken for good.
        await session.EndClaim(a.GatewayId, resumed: true).Within("a's resume worked");
        Assert.Null(await session.Claim(token, null, a.Hub, "/", b.GatewayId).Within("a claim after the resume"));
    }

    [Fact]
    public async Task RoomHistory_KeepsMessagesThatLeftSomeoneOut_WithWhomTheyLeftOut()
    {
        var (a, b) = await fixture.TwoGatewaysAsync();
        var roomKey = GrainKeys.Room(a.Hub, "/", "history");
        var room = fixture.Client.GetGrain<IRoomGrain>(roomKey);
        var joined = await room.Join(new Member("a1", a.GatewayId, null)).Within("the join");
        Assert.Equal(0, joined.Sequence);

        await room.Publish(MemberGroupGrainTests.Text("to all")).Within("a send");
        await room.Publish(MemberGroupGrainTests.Text("not to a1") with { Except = ["a1"] }).Within("a send with an exception");
        var replay = await room.Since(joined.Epoch, 0).Within("the history");

        Assert.True(replay.Complete, "a message that left a member out no longer breaks the history");
        Assert.Equal([1L, 2L], replay.Messages.Select(m => m.Sequence));
        Assert.Null(replay.Messages[0].Except);
        Assert.Equal(["a1"], replay.Messages[1].Except!);
    }

    private async Task<(ISessionGrain Session, string ConnectionId, string Token)> OpenAsync(FakeGateway gateway)
    {
        var connectionId = $"c{Guid.NewGuid():N}"[..20];
        var session = fixture.Client.GetGrain<ISessionGrain>(GrainKeys.Session(gateway.Hub, connectionId));
        var token = await session.OpenRecoverable(Info(gateway, connectionId), Window).Within("the open");
        return (session, connectionId, token);
    }

    /// <summary>A session of the root namespace on <paramref name="gateway"/>, in no room.</summary>
    internal static SessionInfo Info(FakeGateway gateway, string connectionId) =>
        new(gateway.Hub, "/", new Member(connectionId, gateway.GatewayId, null), [], null);

    internal static SerializedPayload Text(string text) => MemberGroupGrainTests.Text(text).Payload;
}
