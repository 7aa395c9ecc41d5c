using System.Text.Json;
using Realtime.Gateway.SignalR;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;
using static Realtime.Tests.Infrastructure.EngineIOWebSocket;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// Two gateways of the socket.io sample (the flask-socketio test page's events) in a cluster of processes, behind
/// nginx with plain round robin, and the npm socket.io-client: every request of a polling client may land on either
/// gateway. What rooms promise is in Spec/RoomSpec.cs.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class SocketIOClusterTests(SharedCluster shared)
{
    [Theory]
    [InlineData("polling")]
    [InlineData("websocket")]
    public async Task AClientOnOneTransport_TalksThroughTheRoundRobinBalancer(string transport)
    {
        await using var clients = await SocketIOClients.StartAsync();
        var connected = await clients.ConnectAsync("a", shared.Balancer, new { transports = new[] { transport } });
        Assert.Equal(transport, connected.GetProperty("transport").GetString());
        await clients.WaitForResponseAsync("a", "Connected");

        // Enough round trips that, on polling, requests land on both gateways and are forwarded to the owner.
        for (var i = 0; i < 6; i++)
        {
            await clients.EmitAsync("a", "my_event", new { data = $"hello {i}" });
            var answer = await clients.WaitForResponseAsync("a", $"hello {i}");
            Assert.Equal(i + 1, answer[0].GetProperty("count").GetInt32());
        }

        Assert.Equal(transport, await clients.TransportAsync("a"));

        // As with flask-socketio, an event sent with a callback is always acknowledged (here with no arguments).
        var acknowledged = await clients.EmitWithAckAsync("a", "my_event", new { data = "with a callback" });
        Assert.Equal(0, acknowledged.GetArrayLength());
    }

    [Fact]
    public async Task DataSentAsAnObject_ComesBackAsTheSameObject_AsFlaskSocketIOEchoesIt()
    {
        await using var clients = await SocketIOClients.StartAsync();
        await clients.ConnectOrThrowAsync("a", shared.Balancer, new { transports = new[] { "websocket" } });
        await clients.EmitWithAckAsync("a", "join", new { room = "values" });

        await clients.EmitWithAckAsync("a", "my_event", new { data = new { text = "hi", n = 2, list = new[] { 1, 2 } } });
        await clients.EmitWithAckAsync("a", "my_room_event", new { room = "values", data = 42 });

        var echoed = await clients.WaitForAsync("a", "my_response", r => r[0].GetProperty("data").ValueKind == JsonValueKind.Object);
        Assert.Equal("{\"text\":\"hi\",\"n\":2,\"list\":[1,2]}", echoed[0].GetProperty("data").GetRawText());
        var number = await clients.WaitForAsync("a", "my_response", r => r[0].GetProperty("data").ValueKind == JsonValueKind.Number);
        Assert.Equal(42, number[0].GetProperty("data").GetInt32());
    }

    [Fact]
    public async Task ASessionOpenedOnOneGateway_IsServedThroughTheOther_PollingAndUpgrade()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var open = await http.GetStringAsync(new Uri($"{shared.Gateway(0)}/socket.io/?EIO=4&transport=polling")).Within("the handshake");
        var sid = JsonDocument.Parse(open[1..]).RootElement.GetProperty("sid").GetString()!;
        var query = $"/socket.io/?EIO=4&transport=polling&sid={Uri.EscapeDataString(sid)}";

        // Polling through the other gateway: it forwards both the POST and the GET to the owner, and counts them.
        var before = await PrometheusText.ScrapeAsync(new Uri(shared.Gateway(1)));
        using (var post = await http.PostAsync(new Uri(shared.Gateway(1) + query), new StringContent("40")).Within("a forwarded POST"))
        {
            Assert.Equal("ok", await post.Content.ReadAsStringAsync());
        }

        Assert.StartsWith("40{\"sid\":", await http.GetStringAsync(new Uri(shared.Gateway(1) + query)).Within("a forwarded GET"), StringComparison.Ordinal);
        var after = await PrometheusText.ScrapeAsync(new Uri(shared.Gateway(1)));
        Assert.Equal(2, after.Sum("realtime_socketio_polling_forwarded_total") - before.Sum("realtime_socketio_polling_forwarded_total"));

        // The upgrade through the other gateway: the WebSocket is carried to the owner.
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        var ws = new Uri($"ws://127.0.0.1:{shared.Cluster.Gateways[1].Port}/socket.io/?EIO=4&transport=websocket&sid={Uri.EscapeDataString(sid)}");
        await socket.ConnectAsync(ws, CancellationToken.None).Within("the forwarded WebSocket");
        await SendAsync(socket, "2probe");
        Assert.Equal("3probe", await ReceiveAsync(socket));
        await SendAsync(socket, "5");
        await SendAsync(socket, "42[\"my_event\",{\"data\":\"over the forwarded socket\"}]");
        string text;
        do
        {
            text = await ReceiveAsync(socket);
        }
        while (!text.Contains("over the forwarded socket", StringComparison.Ordinal));

        Assert.StartsWith("42[\"my_response\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientThatStartsOnPolling_UpgradesToWebSocketThroughTheBalancer()
    {
        await using var clients = await SocketIOClients.StartAsync();
        // The client's default: polling first, then the upgrade.
        await clients.ConnectOrThrowAsync("a", shared.Balancer);
        await clients.WaitForAsync("a", "$upgrade", args => args[0].GetString() == "websocket");
        await clients.EmitAsync("a", "my_event", new { data = "after the upgrade" });
        await clients.WaitForResponseAsync("a", "after the upgrade");
        Assert.Equal("websocket", await clients.TransportAsync("a"));
    }

    [Fact]
    public async Task AcknowledgementsGoBothWays_AndABroadcastCollectsEveryClientsAnswer()
    {
        await using var clients = await SocketIOClients.StartAsync();
        var auth = new { auth = new { password = "open sesame" } };
        await clients.ConnectOrThrowAsync("a", shared.Gateway(0) + "/private", auth);
        await clients.ConnectOrThrowAsync("b", shared.Gateway(1) + "/private", new { auth = new { password = "open sesame" }, transports = new[] { "polling" } });
        await clients.AnswerAsync("a", "question", "forty-two");
        await clients.AnswerAsync("b", "question", SocketIOClients.Binary([1, 2, 3]));
        await clients.AnswerAsync("a", "vote", "yes from a");
        await clients.AnswerAsync("b", "vote", "yes from b");

        // Client to server, and the server's own question to the client, answered through both acks.
        var answer = await clients.EmitWithAckAsync("a", "ask", "the answer?");
        Assert.Equal("forty-two", answer[0].GetString());

        // A client's binary acknowledgement reaches the server (and comes back here in base64, as JSON carries it).
        var binaryAnswer = await clients.EmitWithAckAsync("b", "ask", "your bytes?");
        Assert.Equal([1, 2, 3], Convert.FromBase64String(binaryAnswer[0].GetString()!));

        // A broadcast with acknowledgements reaches both gateways and collects both votes.
        await clients.EmitWithAckAsync("a", "join", "voters");
        await clients.EmitWithAckAsync("b", "join", "voters");
        var poll = await clients.EmitWithAckAsync("b", "poll", "voters", "ship it?");
        var votes = poll[0].GetProperty("votes").EnumerateArray().Select(v => v.GetString()!).Order().ToArray();
        Assert.Equal(["yes from a", "yes from b"], votes);
        Assert.Equal(0, poll[0].GetProperty("missing").GetInt32());

        // The test page measures its latency with an acknowledged my_ping.
        await clients.ConnectOrThrowAsync("pinger", shared.Balancer);
        Assert.Equal(0, (await clients.EmitWithAckAsync("pinger", "my_ping")).GetArrayLength());
    }

    [Fact]
    public async Task BinaryAttachments_CrossGatewaysIntact()
    {
        await using var clients = await SocketIOClients.StartAsync();
        var auth = new { password = "open sesame" };
        // In on polling (base64 in the payload), out on polling and on WebSocket (binary frames).
        await clients.ConnectOrThrowAsync("a", shared.Gateway(0) + "/private", new { auth, transports = new[] { "polling" } });
        await clients.ConnectOrThrowAsync("b", shared.Gateway(1) + "/private", new { auth, transports = new[] { "polling" } });
        await clients.ConnectOrThrowAsync("c", shared.Gateway(1) + "/private", new { auth, transports = new[] { "websocket" } });
        foreach (var client in new[] { "a", "b", "c" })
        {
            await clients.EmitWithAckAsync(client, "join", "files");
        }

        var bytes = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        var ack = await clients.EmitWithAckAsync("a", "upload", "files", SocketIOClients.Binary(bytes));
        Assert.Equal(bytes.Length, ack[0].GetProperty("size").GetInt32());
        Assert.Equal(bytes[..16], Convert.FromBase64String(ack[0].GetProperty("head").GetProperty("$binary").GetString()!)); // a binary ack

        foreach (var client in new[] { "b", "c" })
        {
            var file = await clients.WaitForAsync(client, "file");
            Assert.Equal(bytes.Length, file[0].GetProperty("size").GetInt32());
            Assert.Equal(bytes, Convert.FromBase64String(file[1].GetProperty("$binary").GetString()!));
        }

        Assert.Empty(clients.Received("a", "file"));
    }

    [Fact]
    public async Task Namespaces_RefuseAWrongPasswordAndUnknownNames_AndAreMadeOnDemandByPattern()
    {
        await using var clients = await SocketIOClients.StartAsync();
        var refused = await clients.ConnectAsync("wrong", shared.Balancer + "/private", new { auth = new { password = "guess" } });
        Assert.Equal("wrong password", refused.GetProperty("error").GetString());
        Assert.Equal("pass auth: { password }", refused.GetProperty("data").GetProperty("hint").GetString());

        var unknown = await clients.ConnectAsync("unknown", shared.Balancer + "/nowhere");
        Assert.Equal("Invalid namespace", unknown.GetProperty("error").GetString());

        await clients.ConnectOrThrowAsync("dynamic", shared.Balancer + "/room-42");
        var where = await clients.EmitWithAckAsync("dynamic", "where");
        Assert.Equal("/room-42", where[0].GetString());
    }

    [Fact]
    public async Task AMixedRoom_CarriesMessagesBetweenSignalRAndSocketIO()
    {
        await using var clients = await SocketIOClients.StartAsync();
        await using var signalR = await shared.Cluster.ConnectAsync(shared.Cluster.Gateways[1], "signalr");
        await clients.ConnectOrThrowAsync("sio", shared.Gateway(0));
        await signalR.InvokeAsync("Join", "mixed");
        await clients.EmitAsync("sio", "join", new { room = "mixed" });
        await clients.WaitForAsync("sio", "my_response", a => a[0].GetProperty("data").GetString()!.EndsWith(", mixed", StringComparison.Ordinal));

        // socket.io to the room: the SignalR client gets it on "event", as the RealtimeHub's clients get everything.
        await clients.EmitAsync("sio", "my_room_event", new { room = "mixed", data = "from socket.io" });
        var fromSocketIO = await signalR.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "my_response");
        var received = fromSocketIO[0].Arguments[0];
        Assert.Equal("from socket.io", received.GetProperty("data").GetProperty("data").GetString());
        Assert.Equal("mixed", received.GetProperty("room").GetString());

        // SignalR to the room: the socket.io client gets the event by its name, with the data as its argument.
        await signalR.InvokeAsync("SendToRoom", "mixed", "chat", JsonSerializer.SerializeToElement(new { text = "from SignalR" }));
        var fromSignalR = await clients.WaitForAsync("sio", "chat");
        Assert.Equal("from SignalR", fromSignalR[0].GetProperty("text").GetString());
    }
}
