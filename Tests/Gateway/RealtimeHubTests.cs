using Realtime.Gateway.SignalR;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>Every operation of the RealtimeHub, with real clients over WebSockets on a real Kestrel.</summary>
public sealed class RealtimeHubTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task Disconnect_TheClientIsToldWhyBeforeTheClose_EveryTime()
    {
        var ns = GatewayFixture.Unique("bye");
        for (var attempt = 0; attempt < 20; attempt++)
        {
            await using var client = await Gateway.ConnectAsync($"client{attempt}", ns);
            _ = client.InvokeAsync("Disconnect").ContinueWith(static _ => { }, TaskScheduler.Default); // it may never answer

            await client.Closed.Within("the server to close the connection");

            // The .NET client raises Closed before it has run the handlers of the messages that came before the close
            // (its invocations have a loop of their own, awaited after Closed): the reason is there, if not yet handled.
            await client.WaitForAsync("disconnecting", e => e.Arguments[0].GetString() == "requested").Within($"attempt {attempt}: the reason sent before the close");
        }
    }

    [Fact]
    public async Task Echo_TwoClients_OnlyTheCallerReceives()
    {
        var ns = GatewayFixture.Unique("echo");
        await using var alice = await Gateway.ConnectAsync("alice", ns);
        await using var bob = await Gateway.ConnectAsync("bob", ns);

        await alice.InvokeAsync("Echo", "my_event", new { text = "hello me" });

        var echo = (await alice.WaitForAsync("event")).Single().Arguments[0];
        Assert.Equal("my_event", echo.GetProperty("event").GetString());
        Assert.Equal("hello me", echo.GetProperty("data").GetProperty("text").GetString());
        Assert.Equal("/" + ns, echo.GetProperty("namespace").GetString());
        await AssertNothingArrivedAsync(bob);
    }

    [Fact]
    public async Task Broadcast_ClientsInTwoNamespaces_ReachesOnlyTheSendersNamespace()
    {
        var a = GatewayFixture.Unique("a");
        var b = GatewayFixture.Unique("b");
        await using var a1 = await Gateway.ConnectAsync("a1", a);
        await using var a2 = await Gateway.ConnectAsync("a2", a);
        await using var b1 = await Gateway.ConnectAsync("b1", b);

        await a1.InvokeAsync("Broadcast", "my_broadcast_event", "to a");

        await a1.WaitForAsync("event", e => e.Arguments[0].GetProperty("data").GetString() == "to a");
        await a2.WaitForAsync("event", e => e.Arguments[0].GetProperty("data").GetString() == "to a");
        await AssertNothingArrivedAsync(b1);
    }

    [Fact]
    public async Task Broadcast_DefaultNamespace_DoesNotReachNamedNamespace()
    {
        var named = GatewayFixture.Unique("named");
        await using var root = await Gateway.ConnectAsync("root");
        await using var other = await Gateway.ConnectAsync("other", named);

        await root.InvokeAsync("Broadcast", "hello", "root only");

        await root.WaitForAsync("event", e => e.Arguments[0].GetProperty("data").GetString() == "root only");
        await AssertNothingArrivedAsync(other);
    }

    [Fact]
    public async Task SendToRoom_SameRoomNameInTwoNamespaces_StaysInItsNamespace()
    {
        await using var a = await Gateway.ConnectAsync("a", GatewayFixture.Unique("ns1"));
        await using var b = await Gateway.ConnectAsync("b", GatewayFixture.Unique("ns2"));
        await a.InvokeAsync("Join", "lobby");
        await b.InvokeAsync("Join", "lobby");

        await a.InvokeAsync("SendToRoom", "lobby", "e", "ns1 lobby");

        await a.WaitForAsync("event");
        await AssertNothingArrivedAsync(b);
    }

    // What rooms promise, for both protocols, is in Spec/RoomSpec.cs; these are the RealtimeHub's own answers.

    [Fact]
    public async Task JoinLeaveAndRooms_AnswerWithTheCallersRooms()
    {
        await using var alice = await Gateway.ConnectAsync("alice", GatewayFixture.Unique("rooms"));

        Assert.Equal(["lobby"], await alice.InvokeAsync<string[]>("Join", "lobby"));
        Assert.Equal(["games", "lobby"], await alice.InvokeAsync<string[]>("Join", "games"));
        Assert.Equal(["games", "lobby"], await alice.InvokeAsync<string[]>("Join", "lobby")); // joining twice changes nothing
        Assert.Equal(["games"], await alice.InvokeAsync<string[]>("Leave", "lobby"));
        Assert.Equal(["games"], await alice.InvokeAsync<string[]>("Rooms"));
    }

    [Fact]
    public async Task CloseRoom_AnswersHowManyMembersItRemoved_AndTheirRoomsNoLongerListIt()
    {
        var ns = GatewayFixture.Unique("close");
        await using var alice = await Gateway.ConnectAsync("alice", ns);
        await using var bob = await Gateway.ConnectAsync("bob", ns);
        foreach (var client in new[] { alice, bob })
        {
            await client.InvokeAsync("Join", "doomed");
            await client.InvokeAsync("Join", "kept");
        }

        Assert.Equal(2, await alice.InvokeAsync<int>("CloseRoom", "doomed"));

        foreach (var client in new[] { alice, bob })
        {
            var closed = await client.WaitForAsync("roomClosed");
            Assert.Equal("doomed", closed.Single().Arguments[0].GetString());
            Assert.Equal(["kept"], await client.InvokeAsync<string[]>("Rooms"));
        }
    }

    [Fact]
    public async Task Presence_OfTheRoomAndTheNamespace_NamesEachConnectionsGateway()
    {
        var ns = GatewayFixture.Unique("presence");
        await using var alice = await Gateway.ConnectAsync("alice", ns);
        await using var bob = await Gateway.ConnectAsync("bob", ns);
        var aliceId = await ConnectionIdOf(alice);
        var bobId = await ConnectionIdOf(bob);
        await alice.InvokeAsync("Join", "lobby");

        var room = await alice.InvokeAsync<PresenceDto[]>("Presence", "lobby");
        var all = await alice.InvokeAsync<PresenceDto[]>("NamespacePresence");

        Assert.Equal([aliceId], room.Select(p => p.ConnectionId));
        Assert.Equal(new[] { aliceId, bobId }.Order(), all.Select(p => p.ConnectionId).Order());
        Assert.All(all, p => Assert.False(string.IsNullOrEmpty(p.GatewayId)));
    }

    [Fact]
    public Task PipelinedSends_KeepEachSendersOrder_AndALeaveWaitsForThem() =>
        WithFourMembersAsync("pipelined", "ordered", members => RoomOrder.AssertPipelinedOrderAsync(members, "ordered", perSender: 300));

    /// <summary>Connects four clients to a fresh namespace, makes them join <paramref name="room"/>, and runs <paramref name="test"/>.</summary>
    private async Task WithFourMembersAsync(string namespacePrefix, string room, Func<IReadOnlyList<SignalRTestClient>, Task> test)
    {
        var ns = GatewayFixture.Unique(namespacePrefix);
        var clients = new List<SignalRTestClient>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var client = await Gateway.ConnectAsync($"c{i}", ns);
                clients.Add(client);
                await client.InvokeAsync("Join", room);
            }

            await test(clients);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Proves a negative on one gateway: a round trip on the same connection after the positive deliveries. Every
    /// delivery writes to all its local recipients at once, so a message meant for this client would be ahead of
    /// the answer to its own echo.
    /// </summary>
    internal static async Task AssertNothingArrivedAsync(SignalRTestClient client, int except = 0)
    {
        await client.BarrierAsync();
        var applicationEvents = client.ReceivedOn("event").Count(e => e.Arguments[0].GetProperty("event").GetString() is not (SignalRTestClient.BarrierEvent or WhoAmI));
        Assert.Equal(except, applicationEvents);
    }

    internal static async Task<string> ConnectionIdOf(SignalRTestClient client)
    {
        await client.InvokeAsync("Echo", WhoAmI, "");
        var echo = await client.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == WhoAmI);
        return echo[0].Arguments[0].GetProperty("from").GetString()!;
    }

    private const string WhoAmI = "whoami";

    internal sealed record PresenceDto(string ConnectionId, string? UserId, string GatewayId);
}
