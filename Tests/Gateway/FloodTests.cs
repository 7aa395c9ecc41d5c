using System.Net;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>
/// Floods and slow consumers: per-connection rate limits (messages and bytes) with a clear error and, for sustained
/// abuse, a disconnect; a connection limit answered with 503; a client that stops reading is disconnected while its
/// room goes on. Every other client goes on.
/// </summary>
public sealed class FloodTests
{
    [Fact]
    public async Task MessagesOverTheRate_GetAClearError_SustainedAbuseIsDisconnected_OthersGoOn()
    {
        await using var gateway = await TestGateway.StartAsync(
            "--Gateway:RateLimit:MessagesPerSecond=20", "--Gateway:RateLimit:MessageBurst=20", "--Gateway:RateLimit:DisconnectAfter=30");
        await using var flooder = await gateway.ConnectAsync("flooder");
        await using var neighbour = await gateway.ConnectAsync("neighbour");

        HubErrorException? refused = null;
        var accepted = 0;
        for (var i = 0; i < 100 && refused is null; i++)
        {
            try
            {
                await flooder.InvokeAsync("Echo", "tick", i);
                accepted++;
            }
            catch (HubErrorException ex)
            {
                refused = ex;
            }
        }

        Assert.NotNull(refused);
        Assert.Contains("Rate limit: at most 20 messages per second (Gateway:RateLimit:MessagesPerSecond)", refused.Message);
        Assert.InRange(accepted, 20, 40);
        await neighbour.InvokeAsync("Echo", "still", "here");

        // Going on regardless: refused again and again, then disconnected, saying why.
        for (var i = 0; i < 60 && !flooder.Closed.IsCompleted; i++)
        {
            await flooder.SendAsync("Echo", "flood", i);
        }

        Assert.Contains("went on sending over its rate limit", await flooder.Closed.Within("the flooder to be disconnected"));
        await neighbour.InvokeAsync("Echo", "still", "here");
    }

    [Fact]
    public async Task BytesOverTheRate_GetAClearError()
    {
        await using var gateway = await TestGateway.StartAsync("--Gateway:RateLimit:BytesPerSecond=10000", "--Gateway:RateLimit:ByteBurst=10000");
        await using var client = await gateway.ConnectAsync("client");
        var big = new string('x', 8000);

        await client.InvokeAsync("Echo", "big", big);
        var refused = await Assert.ThrowsAsync<HubErrorException>(() => client.InvokeAsync("Echo", "big", big));

        Assert.Contains("at most 10000 bytes per second (Gateway:RateLimit:BytesPerSecond)", refused.Message);

        // A message larger than the whole bucket is refused the same way, never with an unexpected error.
        var huge = await Assert.ThrowsAsync<HubErrorException>(() => client.InvokeAsync("Echo", "huge", new string('y', 20000)));
        Assert.Contains("bytes per second", huge.Message);
        await client.InvokeAsync("Echo", "small", "ok"); // the connection goes on
    }

    [Fact]
    public async Task SocketIOEventsOverTheRate_TheirCallbackGetsTheError()
    {
        // 5 at once, then 2 a second: the 21st event is over the rate unless the 20 before it took 8 s (the bucket
        // refilling while a loaded machine runs them).
        await using var gateway = await TestGateway.StartAsync("--Gateway:RateLimit:MessagesPerSecond=2", "--Gateway:RateLimit:MessageBurst=5", "--Gateway:RateLimit:DisconnectAfter=0");
        await using var clients = await SocketIOClients.StartAsync();
        await clients.ConnectOrThrowAsync("io", gateway.BaseUri.ToString(), new { transports = new[] { "websocket" } });

        for (var i = 0; i < 20; i++)
        {
            await clients.EmitAsync("io", "spam", i);
        }

        var answer = await clients.EmitWithAckAsync("io", "spam", "with a callback");
        Assert.Contains("Rate limit: at most 2 messages per second", answer[0].GetProperty("error").GetString());
    }

    [Fact]
    public async Task MaxConnections_NewOnesGet503_UntilOneLeaves()
    {
        await using var gateway = await TestGateway.StartAsync("--Gateway:MaxConnections=2");
        using var http = new HttpClient { BaseAddress = gateway.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        await using var first = await gateway.ConnectAsync("first");
        var second = await gateway.ConnectAsync("second");

        var refused = await Assert.ThrowsAsync<HubErrorException>(() => gateway.ConnectAsync("third"));
        Assert.Contains("503", refused.Message);
        var negotiate = await http.PostAsync("/realtime/negotiate?negotiateVersion=1", null).Within("a negotiate");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, negotiate.StatusCode);
        Assert.Contains("Gateway:MaxConnections", await negotiate.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/socket.io/?EIO=4&transport=polling").Within("a socket.io handshake")).StatusCode);
        await first.InvokeAsync("Echo", "held", "connections go on");

        // Once the gateway has seen the second one leave, a new connection gets its place.
        await second.DisposeAsync();
        SignalRTestClient? third = null;
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    third = await gateway.ConnectAsync("third");
                    return true;
                }
                catch (HubErrorException ex) when (ex.Message.Contains("503", StringComparison.Ordinal))
                {
                    return false;
                }
            },
            "a place to free up");
        await using (third)
        {
            await third!.InvokeAsync("Echo", "in", "now");
        }
    }

    [Fact]
    public async Task AClientThatStopsReading_IsDisconnected_ItsRoomKeepsReceiving()
    {
        await using var gateway = await TestGateway.StartAsync("--Gateway:MaxBufferedBytes=2097152");
        var ns = GatewayFixture.Unique("firehose");
        await using var slow = await gateway.ConnectRawAsync("slow", ns);
        await using var reader = await gateway.ConnectAsync("reader", ns);
        await using var sender = await gateway.ConnectAsync("sender", ns);
        await slow.InvokeAsync("Join", "hose");
        await reader.InvokeAsync("Join", "hose");
        await slow.StopReadingAsync();

        // Send until the gateway gives up on the slow client: how much the network buffers first depends on the machine.
        var payload = new string('p', 16 * 1024);
        var sent = 0;
        await Eventually.TrueAsync(
            async () =>
            {
                for (var i = 0; i < 50; i++)
                {
                    await sender.InvokeAsync("SendToRoom", "hose", "chunk", new { i = sent++, payload });
                }

                return (await reader.InvokeAsync<RealtimeHubTests.PresenceDto[]>("Presence", "hose")).Length == 1;
            },
            "the slow client to be disconnected and leave the room",
            TimeSpan.FromSeconds(60));

        // The reader got every message meanwhile.
        await reader.WaitForAsync("event", count: sent, timeout: TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task ASocketIOClientThatStopsReading_IsDisconnected_ItsRoomKeepsReceiving()
    {
        await using var gateway = await TestGateway.StartWithAsync(
            services => Realtime.Gateway.SocketIO.SocketIOExtensions.ConfigureSocketIO(services, io => io.Sockets.OnConnection(socket => socket.JoinAsync("sio-hose"))),
            "--SocketIO:MaxPayload=65536", "--SocketIO:MaxBufferedBytes=1048576");
        await using var reader = await gateway.ConnectAsync("reader");
        await using var sender = await gateway.ConnectAsync("sender");
        await reader.InvokeAsync("Join", "sio-hose");

        // A socket.io client over WebSocket that joins (its connection handler puts it in the room), then reads no more.
        using var slow = new System.Net.WebSockets.ClientWebSocket();
        await slow.ConnectAsync(new Uri($"ws://{gateway.BaseUri.Authority}/socket.io/?EIO=4&transport=websocket"), CancellationToken.None).Within("the socket.io client");
        var buffer = new byte[4096];
        await slow.ReceiveAsync(buffer, CancellationToken.None).Within("the open packet");
        await slow.SendAsync("40"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None).Within("the CONNECT");
        await slow.ReceiveAsync(buffer, CancellationToken.None).Within("the CONNECT answer");
        await Eventually.TrueAsync(
            async () => (await reader.InvokeAsync<RealtimeHubTests.PresenceDto[]>("Presence", "sio-hose")).Length == 2,
            "the socket.io client to be in the room");

        var payload = new string('p', 16 * 1024);
        var sent = 0;
        await Eventually.TrueAsync(
            async () =>
            {
                for (var i = 0; i < 50; i++)
                {
                    await sender.InvokeAsync("SendToRoom", "sio-hose", "chunk", new { i = sent++, payload });
                }

                return (await reader.InvokeAsync<RealtimeHubTests.PresenceDto[]>("Presence", "sio-hose")).Length == 1;
            },
            "the slow socket.io client to be disconnected and leave the room",
            TimeSpan.FromSeconds(60));

        await reader.WaitForAsync("event", count: sent, timeout: TimeSpan.FromSeconds(30));
    }
}
