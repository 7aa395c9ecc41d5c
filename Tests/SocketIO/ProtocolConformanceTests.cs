using System.Net;
using System.Net.WebSockets;
using System.Text;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;
using static Realtime.Tests.Infrastructure.EngineIOWebSocket;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// What the official Engine.IO and Socket.IO protocol test suites check (<see cref="ProtocolSuiteTests"/> runs them
/// where they are at hand), in this project's own tests, against <c>samples/ProtocolConformance</c> as a process: a
/// plain Engine.IO echo endpoint (<c>MapEngineIO</c>) at <c>/engine.io/</c>, and socket.io at <c>/socket.io/</c>.
/// </summary>
public sealed class ProtocolConformanceTests : IClassFixture<ProtocolConformanceTests.Server>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly Server _server;
    private readonly HttpClient _http;

    public ProtocolConformanceTests(Server server)
    {
        _server = server;
        _http = new HttpClient { BaseAddress = server.BaseUri, Timeout = Timeout };
    }

    [Fact]
    public async Task EngineIO_Polling_EchoesOnePayloadOfTextAndBinaryPackets()
    {
        var sid = await OpenPollingAsync("/engine.io/");

        var posted = await _http.PostAsync(Polling("/engine.io/", sid), new StringContent("4hello\u001e4again\u001ebAQIDBA==")).Within("the POST");
        Assert.Equal("ok", await posted.Content.ReadAsStringAsync());

        // The server pings every 300 ms (as the official suites want it): on a loaded machine a ping may share the
        // payload, and a client answers it; the echoes come in order.
        var echoed = (await _http.GetStringAsync(Polling("/engine.io/", sid)).Within("the echo")).Split('\u001e').Where(packet => packet != "2");
        Assert.Equal(["4hello", "4again", "bAQIDBA=="], echoed);
    }

    [Fact]
    public async Task EngineIO_WebSocket_EchoesTextAndBinary_AndClosesOnAMalformedPacket()
    {
        using var socket = await ConnectAsync("/engine.io/");
        var open = await ReceiveAsync(socket);
        Assert.StartsWith("0{", open, StringComparison.Ordinal);
        Assert.Contains("\"upgrades\":[]", open, StringComparison.Ordinal);

        await SendAsync(socket, "4hello");
        Assert.Equal("4hello", await ReceiveAsync(socket));
        await socket.SendAsync(new byte[] { 1, 2, 3, 4 }, WebSocketMessageType.Binary, true, CancellationToken.None).Within("binary");
        Assert.Equal([1, 2, 3, 4], await ReceiveBinaryAsync(socket));

        await SendAsync(socket, "abc");
        await ExpectClosedAsync(socket);
    }

    [Fact]
    public async Task EngineIO_TwoPollsAtOnce_TheWaitingOneGetsAClose_TheOtherA400_AndTheSessionIsGone()
    {
        var sid = await OpenPollingAsync("/engine.io/");
        var answers = await Task.WhenAll(
            _http.GetAsync(Polling("/engine.io/", sid)),
            _http.GetAsync(Polling("/engine.io/", sid) + "&t=burst")).Within("two GETs at once");

        // Whichever came second is refused; the one that waited is told the session is closed.
        var refused = Assert.Single(answers, a => a.StatusCode == HttpStatusCode.BadRequest);
        var waited = Assert.Single(answers, a => a != refused);
        Assert.Equal(HttpStatusCode.OK, waited.StatusCode);
        Assert.Equal("1", await waited.Content.ReadAsStringAsync());
        using var after = await _http.GetAsync(Polling("/engine.io/", sid)).Within("a GET after");
        Assert.Equal(HttpStatusCode.BadRequest, after.StatusCode);
    }

    [Fact]
    public async Task EngineIO_AfterTheUpgrade_APollOrASecondWebSocketIsRefused_AndTheSessionGoesOn()
    {
        var sid = await OpenPollingAsync("/engine.io/");
        using var socket = await ConnectAsync($"/engine.io/?sid={Uri.EscapeDataString(sid)}");
        await SendAsync(socket, "2probe");
        Assert.Equal("3probe", await ReceiveAsync(socket));
        // The waiting poll is released with a noop (and whatever else was waiting, a ping perhaps).
        Assert.StartsWith("6", await _http.GetStringAsync(Polling("/engine.io/", sid)).Within("the released poll"), StringComparison.Ordinal);
        await SendAsync(socket, "5");

        // A GET that reached the session before its "5" did is released by the switch; after it, GETs are refused.
        await Eventually.TrueAsync(
            async () => (await _http.GetAsync(Polling("/engine.io/", sid))).StatusCode == HttpStatusCode.BadRequest,
            "a poll after the upgrade to be refused", Timeout);
        using var second = await ConnectAsync($"/engine.io/?sid={Uri.EscapeDataString(sid)}");
        await ExpectClosedAsync(second);

        await SendAsync(socket, "4still here");
        Assert.Equal("4still here", await ReceiveAsync(socket));
    }

    [Theory]
    [InlineData("40", "40{\"sid\":", "42[\"auth\",{}]")]
    [InlineData("40{\"token\":\"123\"}", "40{\"sid\":", "42[\"auth\",{\"token\":\"123\"}]")]
    [InlineData("40/custom,", "40/custom,{\"sid\":", "42/custom,[\"auth\",{}]")]
    [InlineData("40/custom,{\"token\":\"abc\"}", "40/custom,{\"sid\":", "42/custom,[\"auth\",{\"token\":\"abc\"}]")]
    [InlineData("40/random", "44/random,{\"message\":\"Invalid namespace\"}", null)]
    public async Task SocketIO_Connect_AnswersAndGreetsWithTheClientsAuth(string connect, string answer, string? greeting)
    {
        using var socket = await ConnectAsync("/socket.io/");
        await ReceiveAsync(socket);
        await SendAsync(socket, connect);

        Assert.StartsWith(answer, await ReceiveAsync(socket), StringComparison.Ordinal);
        if (greeting is not null)
        {
            Assert.Equal(greeting, await ReceiveAsync(socket));
        }
    }

    [Fact]
    public async Task SocketIO_LeavingACustomNamespace_KeepsTheMainOne()
    {
        using var socket = await ConnectedAsync();
        await SendAsync(socket, "40/custom");
        Assert.StartsWith("40/custom,", await ReceiveAsync(socket), StringComparison.Ordinal);
        Assert.Equal("42/custom,[\"auth\",{}]", await ReceiveAsync(socket));

        await SendAsync(socket, "41/custom");
        await SendAsync(socket, "42[\"message\",\"to the main namespace\"]");
        Assert.Equal("42[\"message-back\",\"to the main namespace\"]", await ReceiveAsync(socket));
    }

    [Fact]
    public async Task SocketIO_EchoesEventsAndAcknowledgements_WithTheirAttachments()
    {
        using var socket = await ConnectedAsync();
        await SendAsync(socket, "42[\"message\",1,\"2\",{\"3\":[true]}]");
        Assert.Equal("42[\"message-back\",1,\"2\",{\"3\":[true]}]", await ReceiveAsync(socket));

        await SendAsync(socket, "42456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]");
        Assert.Equal("43456[1,\"2\",{\"3\":[false]}]", await ReceiveAsync(socket));

        await SendAsync(socket, "452-[\"message\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
        await socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None).Within("an attachment");
        await socket.SendAsync(new byte[] { 4, 5, 6 }, WebSocketMessageType.Binary, true, CancellationToken.None).Within("an attachment");
        Assert.Equal("452-[\"message-back\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", await ReceiveAsync(socket));
        Assert.Equal([1, 2, 3], await ReceiveBinaryAsync(socket));
        Assert.Equal([4, 5, 6], await ReceiveBinaryAsync(socket));

        await SendAsync(socket, "452-789[\"message-with-ack\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
        await socket.SendAsync(new byte[] { 7 }, WebSocketMessageType.Binary, true, CancellationToken.None).Within("an attachment");
        await socket.SendAsync(new byte[] { 8 }, WebSocketMessageType.Binary, true, CancellationToken.None).Within("an attachment");
        Assert.Equal("462-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", await ReceiveAsync(socket));
        Assert.Equal([7], await ReceiveBinaryAsync(socket));
        Assert.Equal([8], await ReceiveBinaryAsync(socket));
    }

    [Theory]
    [InlineData("4abc")]
    [InlineData("42{}")]
    [InlineData("42abc[\"message-with-ack\",1]")]
    [InlineData("42[\"\\udc00\"]")]
    [InlineData("42[\"message\",\"\\ud800\"]")]
    public async Task SocketIO_AMalformedPacket_ClosesTheConnection(string packet)
    {
        using var socket = await ConnectedAsync();
        await SendAsync(socket, packet);
        await ExpectClosedAsync(socket);
    }

    [Fact]
    public async Task SocketIO_AClientThatJoinsNoNamespace_IsClosedAfterTheConnectTimeout()
    {
        using var socket = await ConnectAsync("/socket.io/");
        await ReceiveAsync(socket);
        await ExpectClosedAsync(socket);
    }

    private async Task<WebSocket> ConnectedAsync()
    {
        var socket = await ConnectAsync("/socket.io/");
        await ReceiveAsync(socket);
        await SendAsync(socket, "40");
        Assert.StartsWith("40{", await ReceiveAsync(socket), StringComparison.Ordinal);
        Assert.Equal("42[\"auth\",{}]", await ReceiveAsync(socket));
        return socket;
    }

    private async Task<string> OpenPollingAsync(string path)
    {
        var open = await _http.GetStringAsync(new Uri($"{path}?EIO=4&transport=polling", UriKind.Relative)).Within("the handshake");
        return System.Text.Json.JsonDocument.Parse(open[1..]).RootElement.GetProperty("sid").GetString()!;
    }

    private static string Polling(string path, string sid) => $"{path}?EIO=4&transport=polling&sid={Uri.EscapeDataString(sid)}";

    private async Task<ClientWebSocket> ConnectAsync(string pathAndQuery)
    {
        var socket = new ClientWebSocket();
        var separator = pathAndQuery.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        await socket.ConnectAsync(new Uri($"ws://{_server.BaseUri.Authority}{pathAndQuery}{separator}EIO=4&transport=websocket"), CancellationToken.None).Within("the WebSocket");
        return socket;
    }

    private static async Task<byte[]> ReceiveBinaryAsync(WebSocket socket)
    {
        var (type, data) = await ReceiveMessageAsync(socket);
        Assert.Equal(WebSocketMessageType.Binary, type);
        return data;
    }

    /// <summary>Waits for the server to close the WebSocket (answering its pings meanwhile, when asked to).</summary>
    /// <summary>Reads until the server closes the socket, answering its pings: only what the test did can close it.</summary>
    private static async Task ExpectClosedAsync(WebSocket socket)
    {
        while (true)
        {
            var (type, data) = await ReceiveMessageAsync(socket);
            if (type == WebSocketMessageType.Close)
            {
                return;
            }

            if (Encoding.UTF8.GetString(data) == "2")
            {
                await SendAsync(socket, "3");
            }
        }
    }

    /// <summary>The conformance sample as a process, embedded, on a loopback port.</summary>
    public sealed class Server : IAsyncLifetime
    {
        private NodeProcess _process = null!;

        public Uri BaseUri { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var port = NodeProcess.FreePort();
            _process = await StartAsync(port);
            BaseUri = new Uri($"http://127.0.0.1:{port}");
        }

        public async Task DisposeAsync() => await _process.DisposeAsync();

        /// <summary>Starts the conformance sample, embedded, listening on <paramref name="port"/> of 127.0.0.1.</summary>
        public static async Task<NodeProcess> StartAsync(int port)
        {
            var process = NodeProcess.Start(
                "conformance",
                "dotnet",
                [Build.Output(Path.Combine("samples", "ProtocolConformance"), "Realtime.Samples.ProtocolConformance.dll"), $"--Urls=http://127.0.0.1:{port}", "--Logging:LogLevel:Default=Warning"],
                port);
            await Eventually.True(() => NodeProcess.CanConnect(port) || process.HasExited, "the conformance server to listen", TimeSpan.FromSeconds(60));
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The conformance server exited:{Environment.NewLine}{process.Output}");
            }

            return process;
        }
    }
}
