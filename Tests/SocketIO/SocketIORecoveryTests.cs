using System.Net.Http.Json;
using System.Text.Json;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// socket.io connection state recovery across a cluster of processes, with the npm socket.io-client behind nginx
/// round robin: a client that lost its connection comes back, through whichever gateway, with its id, rooms and
/// data, and gets every event it missed (from its room, its namespace and sent to it alone) in order and once; one
/// that missed more than history keeps, or left on purpose, starts afresh.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class SocketIORecoveryTests(SharedCluster shared)
{
    [Theory]
    [InlineData("websocket")]
    [InlineData("polling")]
    public async Task EngineClosed_TheClientRecoversThroughTheBalancer_WithItsIdRoomsDataAndEveryEventItMissed(string transport)
    {
        await using var clients = await SocketIOClients.StartAsync();
        var room = $"lobby-{transport}";
        var alice = await clients.ConnectOrThrowAsync("alice", shared.Balancer, Options(transport));
        await clients.ConnectOrThrowAsync("bob", shared.Gateway(1), new { transports = new[] { "websocket" } });
        await clients.EmitWithAckAsync("alice", "join", new { room });
        await clients.EmitWithAckAsync("bob", "join", new { room });

        var expected = new List<string>();
        for (var round = 0; round < 4; round++)
        {
            var before = await WhoAmIAsync(clients, "alice");
            await clients.DropAsync("alice");
            await Eventually.True(() => Disconnects(clients) > round, "alice to hear that her connection was lost");

            // While alice is away: her room, her namespace, and a message to her alone, from a service.
            for (var i = 0; i < 5; i++)
            {
                expected.Add($"{round}.{i}");
                await clients.EmitWithAckAsync("bob", "my_room_event", new { room, data = $"{round}.{i}" });
            }

            expected.Add($"{round}.all");
            await clients.EmitWithAckAsync("bob", "my_broadcast_event", new { data = $"{round}.all" });
            await SendToConnectionAsync(alice, "direct", new { round });

            var back = await clients.ReconnectAsync("alice");
            Assert.Equal(alice, back.GetProperty("id").GetString());
            Assert.True(back.GetProperty("recovered").GetBoolean(), $"round {round}: socket.recovered on the client");
            var now = await WhoAmIAsync(clients, "alice");
            Assert.True(now.GetProperty("recovered").GetBoolean(), "socket.recovered on the server");
            Assert.Equal(alice, now.GetProperty("id").GetString());
            Assert.Contains(room, now.GetProperty("rooms").EnumerateArray().Select(r => r.GetString()));
            Assert.True(before.GetProperty("data").GetProperty("count").GetInt32() >= 1, "the join counted");
            Assert.Equal(before.GetProperty("data").GetProperty("count").GetInt32(), now.GetProperty("data").GetProperty("count").GetInt32());

            // Then the live flow goes on without a gap.
            expected.Add($"{round}.live");
            await clients.EmitWithAckAsync("bob", "my_room_event", new { room, data = $"{round}.live" });
            await clients.WaitForResponseAsync("alice", $"{round}.live");
            await clients.WaitForAsync("alice", "direct", a => a[0].GetProperty("round").GetInt32() == round);
        }

        Assert.Equal(expected, ResponsesFromBob(clients, "alice"));
        Assert.Equal([0, 1, 2, 3], clients.Received("alice", "direct").Select(a => a[0].GetProperty("round").GetInt32()));
    }

    [Fact]
    public async Task MoreMissedThanHistoryKeeps_TheClientStartsAfresh_NotRecovered()
    {
        await using var clients = await SocketIOClients.StartAsync();
        var alice = await clients.ConnectOrThrowAsync("alice", shared.Balancer, Options("websocket"));
        await clients.ConnectOrThrowAsync("bob", shared.Gateway(0), new { transports = new[] { "websocket" } });
        await clients.EmitWithAckAsync("alice", "join", new { room = "busy" });
        await clients.EmitWithAckAsync("bob", "join", new { room = "busy" });
        await clients.DropAsync("alice");
        await clients.WaitForAsync("alice", "$disconnect");

        for (var i = 0; i < SharedCluster.HistoryMessages + 5; i++)
        {
            await clients.EmitWithAckAsync("bob", "my_room_event", new { room = "busy", data = $"m{i}" });
        }

        var back = await clients.ReconnectAsync("alice");

        Assert.False(back.GetProperty("recovered").GetBoolean(), "never a silent gap: a fresh session");
        Assert.NotEqual(alice, back.GetProperty("id").GetString());
        var now = await WhoAmIAsync(clients, "alice");
        Assert.False(now.GetProperty("recovered").GetBoolean());
        Assert.DoesNotContain("busy", now.GetProperty("rooms").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task ClientDisconnectedOnPurpose_ComesBackAsAFreshSession()
    {
        await using var clients = await SocketIOClients.StartAsync();
        var alice = await clients.ConnectOrThrowAsync("alice", shared.Balancer, Options("websocket"));
        await clients.EmitWithAckAsync("alice", "join", new { room = "left-on-purpose" });
        await clients.EmitWithAckAsync("alice", "my_event", new { data = "so that the client has an offset" });
        await clients.DisconnectAsync("alice");
        await clients.WaitForAsync("alice", "$disconnect", a => a[0].GetString() == "io client disconnect");

        var back = await clients.ReconnectAsync("alice");

        Assert.False(back.GetProperty("recovered").GetBoolean());
        Assert.NotEqual(alice, back.GetProperty("id").GetString());
    }

    [Fact]
    public async Task GatewayKilled_TheClientRecoversOnTheOther_WithEverythingSentWhileItWasAway()
    {
        await using var cluster = await SharedCluster.StartOwnAsync();
        await using var nginx = await Nginx.StartAsync(cluster.Gateways);
        await using var clients = await SocketIOClients.StartAsync();
        var balancer = $"http://127.0.0.1:{nginx.Port}";
        var alice = await clients.ConnectOrThrowAsync("alice", balancer, Options("websocket"));
        var engine = (await clients.StateAsync("alice")).GetProperty("engine").GetString()!;
        var (victim, survivor) = GatewayOf(cluster, engine);
        await clients.ConnectOrThrowAsync("bob", $"http://127.0.0.1:{survivor.Port}", new { transports = new[] { "websocket" } });
        await clients.EmitWithAckAsync("alice", "join", new { room = "crash" });
        await clients.EmitWithAckAsync("bob", "join", new { room = "crash" });
        await clients.EmitWithAckAsync("bob", "my_room_event", new { room = "crash", data = "before" });
        await clients.WaitForResponseAsync("alice", "before");

        victim.Kill();
        var expected = new List<string> { "before" };
        for (var i = 0; i < 10; i++)
        {
            expected.Add($"away {i}");
            await clients.EmitWithAckAsync("bob", "my_room_event", new { room = "crash", data = $"away {i}" });
        }

        // socket.io-client reconnects by itself, through nginx, which finds the survivor.
        // Within the documented 3 s of a kill, plus her recovery's calls (within Cluster:ResponseTimeout, 5 s) and a
        // margin of 2 s for a loaded machine.
        await Eventually.True(() => Connects(clients, "alice") > 1, "alice to reconnect", TimeSpan.FromSeconds(3 + 5 + 2));
        var reconnected = clients.Received("alice", "$connect")[1][0];
        Assert.Equal(alice, reconnected.GetProperty("id").GetString());
        Assert.True(reconnected.GetProperty("recovered").GetBoolean(), "recovered after its gateway died");
        expected.Add("after");
        await clients.EmitWithAckAsync("bob", "my_room_event", new { room = "crash", data = "after" });
        await clients.WaitForResponseAsync("alice", "after");

        Assert.Equal(expected, ResponsesFromBob(clients, "alice"));
        var now = await WhoAmIAsync(clients, "alice");
        Assert.True(now.GetProperty("recovered").GetBoolean());
        Assert.Contains("crash", now.GetProperty("rooms").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task ClusterFailsWhileTheSessionIsLookedUp_TheClientIsToldAtOnce_AndItsNextTryRecoversEverything()
    {
        // Calls fail after a second, and failure detection is slow: the silos are frozen long enough for calls to them
        // to fail, and not for them to be declared dead (which would lose the session with them).
        string[] slow = ["--Cluster:ResponseTimeout=00:00:01", "--Cluster:RebuildTimeout=00:00:00.500", "--Cluster:Membership:ProbeTimeout=00:00:05", "--Cluster:Membership:MaxProbeTimeout=00:00:10", "--Cluster:Membership:NumMissedProbesLimit=3"];
        await using var cluster = await TestCluster.StartAsync(
            silos: 2, gateways: 2, gatewayProgram: TestCluster.SocketIOTestPage,
            gatewayArguments: [.. SharedCluster.GatewaySettings, .. slow], siloArguments: [.. SharedCluster.SiloSettings, .. slow]);
        await using var clients = await SocketIOClients.StartAsync();
        var (a, b) = ($"http://127.0.0.1:{cluster.Gateways[0].Port}", $"http://127.0.0.1:{cluster.Gateways[1].Port}");
        var alice = await clients.ConnectOrThrowAsync("alice", a, Options("websocket"));
        await clients.ConnectOrThrowAsync("bob", b, new { transports = new[] { "websocket" } });
        await clients.EmitWithAckAsync("alice", "join", new { room = "frozen" });
        await clients.EmitWithAckAsync("bob", "join", new { room = "frozen" });

        await clients.DropAsync("alice");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Add("X-Api-Key", SharedCluster.ApiKey);
        await Eventually.TrueAsync(
            async () => !(await http.GetStringAsync(new Uri($"{b}/api/v1/presence?namespace=/&room=frozen"))).Contains(alice, StringComparison.Ordinal),
            "alice's gateway to see her go");
        var expected = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            expected.Add($"away {i}");
            await clients.EmitWithAckAsync("bob", "my_room_event", new { room = "frozen", data = $"away {i}" });
        }

        // Her reconnect meets a cluster that does not answer: she is told so at once, not left to her connect timeout.
        JsonElement refused;
        foreach (var silo in cluster.Silos)
        {
            silo.Signal("STOP");
        }

        try
        {
            refused = await clients.ReconnectAsync("alice");
        }
        finally
        {
            foreach (var silo in cluster.Silos)
            {
                silo.Signal("CONT");
            }
        }

        Assert.Equal("The cluster is not available; try again.", refused.TryGetProperty("error", out var error) ? error.GetString() : refused.ToString());

        // Her next try finds the session where it was, and everything she missed.
        var back = await clients.ReconnectAsync("alice");
        Assert.Equal(alice, back.GetProperty("id").GetString());
        Assert.True(back.GetProperty("recovered").GetBoolean(), "the failed lookup gave the session back");
        expected.Add("after");
        await clients.EmitWithAckAsync("bob", "my_room_event", new { room = "frozen", data = "after" });
        await clients.WaitForResponseAsync("alice", "after");
        Assert.Equal(expected, ResponsesFromBob(clients, "alice"));
    }

    private static object Options(string transport) => new Dictionary<string, object>
    {
        ["transports"] = new[] { transport },
        ["reconnection"] = true,
        ["reconnectionDelay"] = 100,
        ["reconnectionDelayMax"] = 300,
        ["randomizationFactor"] = 0,
    };

    private static async Task<JsonElement> WhoAmIAsync(SocketIOClients clients, string client) => (await clients.EmitWithAckAsync(client, "whoami"))[0];

    /// <summary>The data of the room and namespace events <c>bob</c>'s events made a client receive, in order (the echoes of its own events left out).</summary>
    private static List<string> ResponsesFromBob(SocketIOClients clients, string client) =>
        clients.Received(client, "my_response")
            .Select(a => a[0].GetProperty("data").GetString()!)
            .Where(data => data.Length > 0 && (char.IsAsciiDigit(data[0]) || data is "before" or "after" || data.StartsWith("away ", StringComparison.Ordinal)))
            .ToList();

    private static int Disconnects(SocketIOClients clients) => clients.Received("alice", "$disconnect").Count;

    private static int Connects(SocketIOClients clients, string client) => clients.Received(client, "$connect").Count;

    private async Task SendToConnectionAsync(string connectionId, string eventName, object data)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        http.DefaultRequestHeaders.Add("X-Api-Key", SharedCluster.ApiKey);
        using var response = await http.PostAsJsonAsync(new Uri($"{shared.Gateway(0)}/api/v1/events"), new { @event = eventName, data, connectionId }).Within("a message to one connection");
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>The gateway whose name an Engine.IO session id carries, and the other one.</summary>
    private static (NodeProcess Owner, NodeProcess Other) GatewayOf(TestCluster cluster, string engineId)
    {
        var owner = Realtime.Gateway.SocketIO.Engine.EngineIOServer.OwnerOf(engineId) ?? throw new InvalidOperationException($"{engineId} names no gateway.");
        var index = cluster.Gateways.ToList().FindIndex(g => owner.StartsWith(g.Name + "@", StringComparison.Ordinal));
        return index < 0 ? throw new InvalidOperationException($"No gateway {owner}.") : (cluster.Gateways[index], cluster.Gateways[1 - index]);
    }
}
