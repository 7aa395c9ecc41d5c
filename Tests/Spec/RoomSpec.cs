using System.Net;
using System.Net.Http.Json;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Spec;

public enum SpecProtocol
{
    SignalR,
    SocketIO,
}

/// <summary>
/// What rooms, namespaces, users and permissions promise, written once and run for each protocol on each hosting mode (the classes in
/// RoomSpecs.cs). Clients are placed on the host's gateways by the index given (modulo their number), so on a cluster
/// every promise is checked across gateways, and on the embedded gateway within one. Each test uses rooms of its own;
/// a test's clients share their protocol's default namespace with no one while it runs, since the tests of a host run
/// one at a time.
/// </summary>
public abstract class RoomSpec(IRealtimeHost host, SpecProtocol protocol) : IAsyncLifetime
{
    private readonly List<ISpecClient> _connected = [];
    private ISpecClients _clients = null!;

    public async Task InitializeAsync() =>
        _clients = protocol == SpecProtocol.SignalR ? new SignalRSpecClients() : await SocketIOSpecClients.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var client in _connected)
        {
            await client.DisposeAsync();
        }

        await _clients.DisposeAsync();
    }

    [Fact]
    public async Task ARoomMessage_ReachesEveryMemberOnEveryGateway_AndNoOneElse()
    {
        var room = Unique("lobby");
        var (alice, bob, carol, dave) = (await ConnectAsync("alice", 0), await ConnectAsync("bob", 1), await ConnectAsync("carol", 0), await ConnectAsync("dave", 1));
        await alice.JoinAsync(room);
        await bob.JoinAsync(room);

        // Anyone may send to a room, a member or not; only the members hear it.
        await carol.SendAsync(room, "hi lobby");

        await alice.WaitForAsync(t => t == "hi lobby");
        await bob.WaitForAsync(t => t == "hi lobby");
        await AssertNothingAsync(carol, dave);
        Assert.Equal(["hi lobby"], alice.Received);
    }

    [Fact]
    public async Task ASendToAUser_ReachesEachOfItsConnectionsOnEveryGatewayOnce_AndNoOneElse()
    {
        var user = Unique("alice");
        var (phone, laptop, mallory) = (await ConnectAsync("phone", 0, user), await ConnectAsync("laptop", 1, user), await ConnectAsync("mallory", 0, Unique("mallory")));

        // A service sends to the user through the HTTP API of one gateway.
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) })
        {
            http.DefaultRequestHeaders.Add("X-Api-Key", host.ApiKey);
            using var response = await http.PostAsJsonAsync(new Uri(Gateway(0), "/api/v1/events"), new { @event = "text", data = "for alice", userId = user }).Within("a send to a user");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await phone.WaitForAsync(t => t == "for alice");
        await laptop.WaitForAsync(t => t == "for alice");
        await phone.BarrierAsync();
        await laptop.BarrierAsync();
        Assert.Equal(["for alice"], phone.Received);
        Assert.Equal(["for alice"], laptop.Received);
        await AssertNothingAsync(mallory);
    }

    [Fact]
    public async Task JoinAndLeave_DeliveryFollowsMembership()
    {
        var (lobby, games) = (Unique("lobby"), Unique("games"));
        var (alice, bob, carol) = (await ConnectAsync("alice", 0), await ConnectAsync("bob", 1), await ConnectAsync("carol", 0));
        await alice.JoinAsync(lobby);
        await alice.JoinAsync(games);
        await alice.JoinAsync(games); // joining twice changes nothing
        await carol.JoinAsync(lobby);
        await alice.LeaveAsync(lobby);

        await bob.SendAsync(lobby, "after leave");
        await bob.SendAsync(games, "still a member");

        await carol.WaitForAsync(t => t == "after leave");
        await alice.WaitForAsync(t => t == "still a member");
        await alice.BarrierAsync();
        Assert.Equal(["still a member"], alice.Received);
    }

    [Fact]
    public async Task ABroadcast_ReachesEveryConnectionOfTheNamespaceOnEveryGateway()
    {
        var clients = new[] { await ConnectAsync("c0", 0), await ConnectAsync("c1", 1), await ConnectAsync("c2", 0), await ConnectAsync("c3", 1) };

        await clients[1].BroadcastAsync("to everyone");

        foreach (var client in clients)
        {
            await client.WaitForAsync(t => t == "to everyone");
        }
    }

    [Fact]
    public async Task ClosingARoom_TellsEveryMember_ThenNoOneIsInItOnAnyGateway()
    {
        var (doomed, kept) = (Unique("doomed"), Unique("kept"));
        var members = new[] { await ConnectAsync("alice", 0), await ConnectAsync("bob", 1), await ConnectAsync("carol", 0) };
        foreach (var member in members)
        {
            await member.JoinAsync(doomed);
            await member.JoinAsync(kept);
        }

        await members[2].CloseRoomAsync(doomed);

        foreach (var member in members)
        {
            await member.WaitForRoomClosedAsync(doomed);
        }

        Assert.Empty(await members[0].PresenceAsync(doomed));

        // Newcomers on both gateways hear the room again; the old members, closed out of it, do not.
        var (dave, erin) = (await ConnectAsync("dave", 0), await ConnectAsync("erin", 1));
        await dave.JoinAsync(doomed);
        await erin.JoinAsync(doomed);
        await members[1].SendAsync(doomed, "after close");
        await dave.WaitForAsync(t => t == "after close");
        await erin.WaitForAsync(t => t == "after close");
        await AssertNothingAsync(members);

        // The other room is untouched.
        await members[1].SendAsync(kept, "still kept");
        foreach (var member in members)
        {
            await member.WaitForAsync(t => t == "still kept");
        }
    }

    [Fact]
    public async Task ARefusedRequest_IsAnsweredWithTheReason_AndTheConnectionAndTheRoomGoOn()
    {
        // The hosts let only a room's members close it (Permissions: Close = Members in the default namespace).
        var room = Unique("guarded");
        var (alice, bob, mallory) = (await ConnectAsync("alice", 0), await ConnectAsync("bob", 1), await ConnectAsync("mallory", 1));
        await alice.JoinAsync(room);
        await bob.JoinAsync(room);

        var refused = await Assert.ThrowsAsync<SpecErrorException>(() => mallory.CloseRoomAsync(room));
        Assert.Contains($"only members of room '{room}' may close room '{room}'", refused.Message);

        await mallory.SendAsync(room, "still open");
        await alice.WaitForAsync(t => t == "still open");
        await bob.WaitForAsync(t => t == "still open");
        Assert.Equal(2, (await mallory.PresenceAsync(room)).Count);
    }

    [Fact]
    public async Task Presence_ListsTheMembersOfARoomOnEveryGateway()
    {
        var room = Unique("present");
        var (alice, bob, carol) = (await ConnectAsync("alice", 0), await ConnectAsync("bob", 1), await ConnectAsync("carol", 0));
        await alice.JoinAsync(room);
        await bob.JoinAsync(room);

        Assert.Equal(new[] { alice.Id, bob.Id }.Order(), (await carol.PresenceAsync(room)).Order());

        await bob.LeaveAsync(room);
        Assert.Equal([alice.Id], await carol.PresenceAsync(room));
    }

    [Theory]
    [InlineData(false, 50)]
    [InlineData(true, 200)]
    public async Task TwoSendersOnTwoGateways_EveryMemberSeesOneOrder_EachSendersInTheOrderItSent(bool pipelined, int perSender)
    {
        var room = Unique("ordered");
        var members = new[] { await ConnectAsync("c0", 0), await ConnectAsync("c1", 1), await ConnectAsync("c2", 0), await ConnectAsync("c3", 1) };
        foreach (var member in members)
        {
            await member.JoinAsync(room);
        }

        await Task.WhenAll(members.Take(2).Select((sender, s) => Task.Run(async () =>
        {
            for (var n = 0; n < perSender; n++)
            {
                await (pipelined ? sender.SendWithoutWaitingAsync(room, $"{s}:{n}") : sender.SendAsync(room, $"{s}:{n}"));
            }
        }))).Within($"{2 * perSender} sends", TimeSpan.FromSeconds(60));

        var orders = new List<IReadOnlyList<string>>();
        foreach (var member in members)
        {
            await member.WaitForAsync(_ => true, 2 * perSender);
            orders.Add(member.Received);
        }

        Assert.All(orders, order => Assert.Equal(orders[0], order));
        Assert.Equal(2 * perSender, orders[0].Distinct().Count());
        for (var s = 0; s < 2; s++)
        {
            var prefix = $"{s}:";
            Assert.Equal(Enumerable.Range(0, perSender).Select(n => prefix + n), orders[0].Where(t => t.StartsWith(prefix, StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task DisconnectedByTheServer_TheConnectionLeavesItsRoomsEverywhere()
    {
        var room = Unique("bye");
        var (alice, bob) = (await ConnectAsync("alice", 0), await ConnectAsync("bob", 1));
        await alice.JoinAsync(room);
        await bob.JoinAsync(room);

        await alice.DisconnectedByServerAsync();

        await Eventually.TrueAsync(async () => (await bob.PresenceAsync(room)).SequenceEqual([bob.Id]), "alice to be gone from the room");
    }

    [Fact]
    public async Task AClientThatCloses_LeavesItsRoomsEverywhere()
    {
        var (r1, r2) = (Unique("r1"), Unique("r2"));
        var (alice, bob) = (await ConnectAsync("alice", 1), await ConnectAsync("bob", 0));
        await alice.JoinAsync(r1);
        await alice.JoinAsync(r2);

        await alice.DisposeAsync();
        _connected.Remove(alice);

        await Eventually.TrueAsync(async () => (await bob.PresenceAsync(r1)).Count == 0 && (await bob.PresenceAsync(r2)).Count == 0, "alice to be gone from both rooms");
    }

    [Fact]
    public async Task AClientThatLostItsConnection_ComesBackInItsRooms_WithEveryMessageItMissedInOrder()
    {
        var room = Unique("resumed");
        var (alice, bob) = (await ConnectAsync("alice", 0), await ConnectAsync("bob", 1));
        await alice.JoinAsync(room);
        await bob.JoinAsync(room);
        await bob.SendAsync(room, "m1");
        await alice.WaitForAsync(t => t == "m1");

        var recovered = await alice.DropAndComeBackAsync(Gateway(1), async () =>
        {
            await bob.SendAsync(room, "m2");
            await bob.SendAsync(room, "m3");
        });

        Assert.True(recovered, "the session was recovered");
        Assert.Contains(alice.Id, await bob.PresenceAsync(room));
        await bob.SendAsync(room, "m4");
        await alice.WaitForAsync(t => t == "m4");
        Assert.Equal(["m1", "m2", "m3", "m4"], alice.Received);
    }

    private Uri Gateway(int index) => host.Gateways[index % host.Gateways.Count];

    private async Task<ISpecClient> ConnectAsync(string name, int gateway, string? user = null)
    {
        var client = await _clients.ConnectAsync(name, Gateway(gateway), user).Within($"{name} to connect to the {host.Name} gateway {gateway}");
        _connected.Add(client);
        return client;
    }

    /// <summary>
    /// Proves that none of <paramref name="clients"/> received a message, once a client on each of their gateways did:
    /// see <see cref="ISpecClient.BarrierAsync"/>.
    /// </summary>
    private static async Task AssertNothingAsync(params ISpecClient[] clients)
    {
        foreach (var client in clients)
        {
            await client.BarrierAsync();
            Assert.True(client.Received.Count == 0, $"{client.Name} received {string.Join(", ", client.Received)}");
        }
    }

    private static string Unique(string prefix) => GatewayFixture.Unique(prefix);
}
