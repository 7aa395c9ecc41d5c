using System.Security.Claims;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Client.Operations;
using Realtime.Gateway.Authorization;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// Room and namespace permissions on two gateways of one cluster: each policy kind (anyone, signed-in users, members,
/// token grants with patterns and expiry, the server only), and the application's <see cref="IRealtimeAuthorizer"/>.
/// A refusal is an error on that call, and the connection goes on.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PermissionsTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;
    private TestGateway _a = null!;
    private TestGateway _b = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync(silos: 1, gateways: 0);
        string[] settings =
        [
            $"--Auth:HmacKey={TestTokens.HmacKey}", "--Auth:ClockSkew=00:00:00",
            "--Permissions:Namespaces:0:Namespace=/signed", "--Permissions:Namespaces:0:Join=Authenticated", "--Permissions:Namespaces:0:Send=Authenticated",
            "--Permissions:Namespaces:0:Presence=Authenticated", "--Permissions:Namespaces:0:Broadcast=Authenticated",
            "--Permissions:Namespaces:1:Namespace=/members", "--Permissions:Namespaces:1:Send=Members", "--Permissions:Namespaces:1:Presence=Members",
            "--Permissions:Namespaces:1:Close=Members",
            "--Permissions:Namespaces:2:Namespace=/granted", "--Permissions:Namespaces:2:Join=Granted", "--Permissions:Namespaces:2:Send=Granted",
            "--Permissions:Namespaces:2:Presence=Granted",
            "--Permissions:Namespaces:3:Namespace=/server", "--Permissions:Namespaces:3:Join=Nobody", "--Permissions:Namespaces:3:Send=Nobody",
            "--Permissions:Namespaces:3:Presence=Nobody", "--Permissions:Namespaces:3:Broadcast=Nobody", "--Permissions:Namespaces:3:Close=Nobody",
        ];
        _a = await TestGateway.StartWithAsync(s => s.AddSingleton<IRealtimeAuthorizer, NoVipRooms>(), [.. _cluster.GatewayArguments("gwA"), .. settings]);
        _b = await TestGateway.StartWithAsync(s => s.AddSingleton<IRealtimeAuthorizer, NoVipRooms>(), [.. _cluster.GatewayArguments("gwB"), .. settings]);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Anyone_UnlistedNamespace_StaysOpen()
    {
        await using var a = await ConnectAsync(_a, "/", null, "a");
        await using var b = await ConnectAsync(_b, "/", null, "b");

        await a.InvokeAsync("Join", "lobby");
        await b.InvokeAsync("SendToRoom", "lobby", "hello", "from b");
        await a.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "hello");
        Assert.Single(await b.InvokeAsync<Realtime.Tests.Gateway.RealtimeHubTests.PresenceDto[]>("Presence", "lobby"));
    }

    [Fact]
    public async Task Authenticated_SignedInUsersMay_AnonymousAreRefused()
    {
        await using var anonymous = await ConnectAsync(_a, "/signed", null, "anonymous");
        await using var alice = await ConnectAsync(_b, "/signed", Token("alice"), "alice");

        await RefusedAsync(anonymous.InvokeAsync("Join", "room"), "only signed-in users may join room 'room'");
        await RefusedAsync(anonymous.InvokeAsync("SendToRoom", "room", "e", 1), "only signed-in users may send to room 'room'");
        await RefusedAsync(anonymous.InvokeAsync("Presence", "room"), "only signed-in users may list the members");
        await RefusedAsync(anonymous.InvokeAsync("Broadcast", "e", 1), "only signed-in users may broadcast");

        await alice.InvokeAsync("Join", "room");
        await alice.InvokeAsync("SendToRoom", "room", "e", 1);
        Assert.Single(await alice.InvokeAsync<Realtime.Tests.Gateway.RealtimeHubTests.PresenceDto[]>("Presence", "room"));

        // The refused connection goes on: what the policy allows anyone still works.
        Assert.Empty(await anonymous.InvokeAsync<string[]>("Rooms"));
    }

    [Fact]
    public async Task Members_OnlyMembersSendAndList_AcrossGateways()
    {
        await using var member = await ConnectAsync(_a, "/members", null, "member");
        await using var outsider = await ConnectAsync(_b, "/members", null, "outsider");
        await member.InvokeAsync("Join", "club");

        await RefusedAsync(outsider.InvokeAsync("SendToRoom", "club", "e", 1), "only members of room 'club' may send to room 'club'");
        await RefusedAsync(outsider.InvokeAsync("Presence", "club"), "only members of room 'club' may list the members of room 'club'");
        await RefusedAsync(outsider.InvokeAsync("CloseRoom", "club"), "only members of room 'club' may close room 'club'");

        await outsider.InvokeAsync("Join", "club");
        await outsider.InvokeAsync("SendToRoom", "club", "welcome", "from B");
        await member.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "welcome");
        Assert.Equal(2, (await outsider.InvokeAsync<Realtime.Tests.Gateway.RealtimeHubTests.PresenceDto[]>("Presence", "club")).Length);
        Assert.Equal(2, (await member.InvokeAsync<Realtime.Tests.Gateway.RealtimeHubTests.PresenceDto[]>("NamespacePresence")).Length);
    }

    [Fact]
    public async Task Members_ASendTheClientDoesNotWaitFor_IsRefusedOnSendFailed_NamingTheRoomAndWhy()
    {
        await using var member = await ConnectAsync(_a, "/members", null, "member");
        await using var outsider = await ConnectAsync(_b, "/members", null, "outsider");
        await member.InvokeAsync("Join", "club");

        // A SignalR send carries no invocation id: no error can answer it, so the connection is told on sendFailed.
        await outsider.SendAsync("SendToRoom", "club", "sneaky", 1);
        var failed = (await outsider.WaitForAsync("sendFailed"))[0].Arguments[0];
        Assert.Equal("club", failed.GetProperty("room").GetString());
        Assert.Equal("sneaky", failed.GetProperty("event").GetString());
        Assert.Contains("only members of room 'club' may send to room 'club'", failed.GetProperty("reason").GetString());

        // The connection goes on, and the refused send reached nobody (proved after a later send arrived).
        await outsider.InvokeAsync("Join", "club");
        await outsider.SendAsync("SendToRoom", "club", "welcome", "from B");
        await member.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "welcome");
        Assert.DoesNotContain(member.ReceivedOn("event"), e => e.Arguments[0].GetProperty("event").GetString() == "sneaky");
        Assert.Single(outsider.ReceivedOn("sendFailed"));
    }

    [Fact]
    public async Task Granted_ExactAndPatternGrants_AreHonoured_OthersRefused()
    {
        await using var agent = await ConnectAsync(_a, "/granted", Token("agent", rooms: ["team-a", "support:*"]), "agent");
        await using var nobody = await ConnectAsync(_b, "/granted", Token("nobody"), "nobody");

        await agent.InvokeAsync("Join", "team-a");
        await agent.InvokeAsync("Join", "support:42");
        await RefusedAsync(agent.InvokeAsync("Join", "team-b"), "the token does not grant room 'team-b' (claim 'rooms')");
        await RefusedAsync(agent.InvokeAsync("Join", "support"), "does not grant room 'support'");
        await agent.InvokeAsync("SendToRoom", "support:42", "e", 1);
        Assert.Single(await agent.InvokeAsync<Realtime.Tests.Gateway.RealtimeHubTests.PresenceDto[]>("Presence", "support:42"));
        await RefusedAsync(agent.InvokeAsync("Presence", "team-b"), "does not grant room 'team-b'");

        await RefusedAsync(nobody.InvokeAsync("Join", "team-a"), "does not grant room 'team-a'");
        await RefusedAsync(nobody.InvokeAsync("SendToRoom", "support:42", "e", 1), "does not grant room 'support:42'");
        await RefusedAsync(nobody.InvokeAsync("Presence", "team-a"), "does not grant room 'team-a'");
    }

    [Fact]
    public async Task Granted_AGrantEndsWithItsToken_TheConnectionGoesOn()
    {
        await using var shortLived = await ConnectAsync(_b, "/granted", Token("brief", rooms: ["team-a"], expires: DateTime.UtcNow.AddSeconds(3)), "brief");
        await shortLived.InvokeAsync("Join", "team-a");

        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    await shortLived.InvokeAsync("SendToRoom", "team-a", "e", 1);
                    return false;
                }
                catch (HubErrorException refused) when (refused.Message.Contains("expired at", StringComparison.Ordinal))
                {
                    return true;
                }
            },
            "the expired token's grant to be refused");
        Assert.Contains("team-a", await shortLived.InvokeAsync<string[]>("Rooms"));
    }

    [Fact]
    public async Task Nobody_ClientsAreRefused_TheServerStillActs()
    {
        await using var client = await ConnectAsync(_a, "/server", null, "client");
        var id = (await client.InvokeAsync("ConnectionId")).GetString()!;

        await RefusedAsync(client.InvokeAsync("Join", "news"), "in /server, only the server may join room 'news'");
        await RefusedAsync(client.InvokeAsync("SendToRoom", "news", "e", 1), "only the server may send to room 'news'");
        await RefusedAsync(client.InvokeAsync("Presence", "news"), "only the server may list");
        await RefusedAsync(client.InvokeAsync("Broadcast", "e", 1), "only the server may broadcast");

        // The server joins it, from the other gateway, and sends to the room.
        var cluster = _b.Services.GetRequiredService<IRealtimeCluster>();
        Assert.True(await cluster.JoinAsync(id, "news").Within("the server to join the client"));
        await _b.Services.GetRequiredService<Realtime.Client.Emitting.IRealtimeEmitter>().Room("/server", "news").EmitAsync("headline", "hi").Within("the server's send");
        await client.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "headline");
    }

    [Fact]
    public async Task Authorizer_RefusesWhatTheApplicationDecides_AfterThePolicyAllows()
    {
        await using var guest = await ConnectAsync(_a, "/", Token("guest"), "guest");
        await using var boss = await ConnectAsync(_b, "/", Token("boss"), "boss");

        await RefusedAsync(guest.InvokeAsync("Join", "vip-lounge"), "vip rooms are for the boss");
        await boss.InvokeAsync("Join", "vip-lounge");
        await guest.InvokeAsync("Join", "lobby");
    }

    private static Task<SignalRTestClient> ConnectAsync(TestGateway gateway, string @namespace, string? token, string name)
    {
        var uri = gateway.HubUri(@namespace);
        return SignalRTestClient.ConnectAsync(token is null ? uri : new Uri($"{uri}?access_token={Uri.EscapeDataString(token)}"), name);
    }

    private static string Token(string subject, string[]? rooms = null, DateTime? expires = null) =>
        TestTokens.Create(subject, expires: expires, claims: (rooms ?? []).Select(r => new Claim("rooms", r)));

    private static async Task RefusedAsync(Task call, string expected)
    {
        var refused = await Assert.ThrowsAsync<HubErrorException>(() => call);
        Assert.Contains("HubException: Not allowed: ", refused.Message);
        Assert.Contains(expected, refused.Message);
    }

    private sealed class NoVipRooms : IRealtimeAuthorizer
    {
        public ValueTask<RealtimeAuthorization> AuthorizeAsync(RealtimeAuthorizationContext context, CancellationToken cancellationToken) =>
            ValueTask.FromResult(context.Room?.StartsWith("vip", StringComparison.Ordinal) == true && context.User.FindFirst(ClaimTypes.NameIdentifier)?.Value != "boss"
                ? RealtimeAuthorization.Deny("vip rooms are for the boss.")
                : RealtimeAuthorization.Allow);
    }
}

/// <summary>
/// The same permissions on socket.io: the flask-socketio test-page sample's handlers ask the namespace's policy before
/// they join, send or close for a client, on two gateways of a cluster.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SocketIOPermissionsTests
{
    [Fact]
    public async Task TestPageHandlers_FollowThePolicy_RefusalsAreAnsweredAndTheSocketGoesOn()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 1, gateways: 2, TestCluster.SocketIOTestPage, [
            "--Permissions:Namespaces:0:Namespace=/", "--Permissions:Namespaces:0:Join=Granted", "--Permissions:Namespaces:0:Send=Members",
            "--Permissions:Namespaces:0:Broadcast=Nobody", "--Permissions:Namespaces:0:Close=Nobody", $"--Api:Keys:0={SharedCluster.ApiKey}"]);
        await using var clients = await SocketIOClients.StartAsync();
        var token = TestTokens.Create("ops-lead", claims: [new Claim("rooms", "ops:*")]);
        await clients.ConnectOrThrowAsync("lead", $"http://127.0.0.1:{cluster.Gateways[0].Port}", new { query = new { access_token = token }, transports = new[] { "websocket" } });
        await clients.ConnectOrThrowAsync("guest", $"http://127.0.0.1:{cluster.Gateways[1].Port}", new { transports = new[] { "polling" } });

        // A refused join is answered in the callback and on my_response; the socket stays where it was.
        var refused = await clients.EmitWithAckAsync("guest", "join", new { room = "ops:night" });
        Assert.Contains("Not allowed: the token does not grant room 'ops:night'", refused[0].GetProperty("error").GetString());
        await clients.WaitForAsync("guest", "my_response", a => a[0].GetProperty("data").GetString()!.StartsWith("Not allowed: ", StringComparison.Ordinal));

        await clients.EmitAsync("lead", "join", new { room = "ops:night" });
        await clients.WaitForAsync("lead", "my_response", a => a[0].GetProperty("data").GetString()!.EndsWith(", ops:night", StringComparison.Ordinal));

        // Members only send: the guest is refused, the lead's message reaches the room.
        await clients.EmitAsync("guest", "my_room_event", new { room = "ops:night", data = "from outside" });
        await clients.WaitForAsync("guest", "my_response", a => a[0].GetProperty("data").GetString()!.Contains("only members of room 'ops:night'", StringComparison.Ordinal));
        await clients.EmitAsync("lead", "my_room_event", new { room = "ops:night", data = "from inside" });
        await clients.WaitForAsync("lead", "my_response", a => a[0].GetProperty("data").GetString() == "from inside");
        Assert.DoesNotContain(clients.Received("lead", "my_response"), a => a[0].GetProperty("data").GetString() == "from outside");

        // Broadcasts and closes are the server's.
        await clients.EmitAsync("lead", "my_broadcast_event", new { data = "to all" });
        await clients.WaitForAsync("lead", "my_response", a => a[0].GetProperty("data").GetString()!.Contains("only the server may broadcast", StringComparison.Ordinal));
        await clients.EmitAsync("lead", "close_room", new { room = "ops:night" });
        await clients.WaitForAsync("lead", "my_response", a => a[0].GetProperty("data").GetString()!.Contains("only the server may close room 'ops:night'", StringComparison.Ordinal));

        // The barrier for the negative: a broadcast of the server's, sent after the refused one, has reached the guest.
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            http.DefaultRequestHeaders.Add("X-Api-Key", SharedCluster.ApiKey);
            using var sent = await http.PostAsJsonAsync(new Uri($"http://127.0.0.1:{cluster.Gateways[0].Port}/api/v1/events"), new { @event = "barrier", data = 1, @namespace = "/" }).Within("a broadcast of the server's");
            Assert.Equal(System.Net.HttpStatusCode.Accepted, sent.StatusCode);
        }

        await clients.WaitForAsync("guest", "barrier");
        Assert.DoesNotContain(clients.Received("guest", "my_response"), a => a[0].GetProperty("data").GetString() == "to all");
    }
}
