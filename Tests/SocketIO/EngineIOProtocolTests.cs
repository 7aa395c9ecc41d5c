using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Realtime.Tests.Infrastructure;
using static Realtime.Tests.Infrastructure.EngineIOWebSocket;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// The Engine.IO v4 endpoint spoken to by hand, on a real Kestrel: the handshake, the errors the spec gives, the
/// heartbeat, the upgrade, limits and malformed packets, each of which closes only its own session.
/// </summary>
public sealed class EngineIOProtocolTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private TestGateway _gateway = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _gateway = await TestGateway.StartAsync(
            "--SocketIO:PingInterval=00:00:00.300", "--SocketIO:PingTimeout=00:00:00.400", "--SocketIO:MaxPayload=4096",
            "--SocketIO:CorsOrigins:0=http://app.example");
        _http = new HttpClient { BaseAddress = _gateway.BaseUri, Timeout = Timeout };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
    }

    [Fact]
    public async Task TheHandshake_GivesTheSessionAndItsSettings()
    {
        await using var defaults = await TestGateway.StartAsync();
        using var http = new HttpClient { BaseAddress = defaults.BaseUri, Timeout = Timeout };
        var open = await http.GetStringAsync(new Uri("/socket.io/?EIO=4&transport=polling", UriKind.Relative));

        Assert.StartsWith("0{", open, StringComparison.Ordinal);
        var handshake = JsonDocument.Parse(open[1..]).RootElement;
        Assert.False(string.IsNullOrEmpty(handshake.GetProperty("sid").GetString()));
        Assert.Equal(["websocket"], handshake.GetProperty("upgrades").EnumerateArray().Select(u => u.GetString()!));
        Assert.Equal(25000, handshake.GetProperty("pingInterval").GetInt32());
        Assert.Equal(20000, handshake.GetProperty("pingTimeout").GetInt32());
        Assert.Equal(1_000_000, handshake.GetProperty("maxPayload").GetInt32());
    }

    [Theory]
    [InlineData("GET", "/socket.io/?EIO=3&transport=polling", 5, "Unsupported protocol version")]
    [InlineData("GET", "/socket.io/?transport=polling", 5, "Unsupported protocol version")]
    [InlineData("GET", "/socket.io/?EIO=4&transport=carrier-pigeon", 0, "Transport unknown")]
    [InlineData("GET", "/socket.io/?EIO=4&transport=polling&sid=no-such-session", 1, "Session ID unknown")]
    [InlineData("GET", "/socket.io/?EIO=4&transport=polling&sid=Z2hvc3Q.abc", 1, "Session ID unknown")]
    [InlineData("POST", "/socket.io/?EIO=4&transport=polling", 2, "Bad handshake method")]
    [InlineData("GET", "/socket.io/?EIO=4&transport=websocket", 3, "Bad request")]
    public async Task BadRequests_GetTheSpecsAnswers(string method, string path, int code, string message)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative)) { Content = method == "POST" ? new StringContent("40") : null };
        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        Assert.Equal(message, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AnUnknownMethodOnASession_IsABadRequest()
    {
        var sid = await OpenAsync();
        using var response = await _http.PutAsync(Polling(sid), new StringContent("40"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(3, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task TheHeartbeat_KeepsAnAnsweringClient_AndDropsASilentOne()
    {
        var answering = await OpenAsync();
        var silent = await OpenAsync();
        await PostAsync(answering, "40");
        await PostAsync(silent, "40");
        await Task.WhenAll(ConnectedAsync(answering, pong: true), ConnectedAsync(silent, pong: false)).Within("both CONNECT answers");

        // Several ping intervals: the answering client pongs each ping and stays.
        var pings = 0;
        while (pings < 4)
        {
            var payload = await PollAsync(answering);
            Assert.DoesNotContain("1", payload.Split('\u001e'));
            if (payload.Split('\u001e').Contains("2"))
            {
                pings++;
                await PostAsync(answering, "3");
            }
        }

        // The silent one got its pings too, and was closed a ping timeout after the first.
        await Eventually.TrueAsync(async () => await PollStatusAsync(silent) == HttpStatusCode.BadRequest, "the silent session is closed", Timeout);
        Assert.Equal(HttpStatusCode.OK, await PollStatusAfterPongAsync(answering).Within("a poll"));
    }

    [Fact]
    public async Task TheUpgrade_ProbesReleasesThePollAndSwitchesToWebSocket()
    {
        var sid = await OpenAsync();
        var waitingPoll = PollAsync(sid);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(WebSocketUri(sid), CancellationToken.None).Within("the WebSocket to connect");
        await SendAsync(socket, "2probe");
        Assert.Equal("3probe", await ReceiveAsync(socket));

        // The GET that was waiting returns with a noop, so the client can pause polling.
        Assert.Equal("6", await waitingPoll.Within("the waiting poll to be released"));
        await SendAsync(socket, "5");

        await SendAsync(socket, "40");
        Assert.StartsWith("40{\"sid\":", await ReceiveAsync(socket), StringComparison.Ordinal);

        // The session is on WebSocket now: polling it is a bad request.
        using var response = await _http.GetAsync(Polling(sid));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task AMalformedPacket_ClosesOnlyItsOwnSession()
    {
        var bad = await OpenAsync();
        var good = await OpenAsync();
        await PostAsync(good, "40");
        await ConnectedAsync(good, pong: true).Within("the CONNECT answer");

        foreach (var garbage in new[] { "4Zbad", "42[\"connect\"]", "9", "451-[\"upload\",{\"_placeholder\":true,\"num\":0}]\u001e4after", "40\u001e42[\"\\udc00\"]" })
        {
            var victim = await OpenAsync();
            using var response = await _http.PostAsync(Polling(victim), new StringContent(garbage));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, await PollStatusAsync(victim).Within("a poll"));
        }

        using (var response = await _http.PostAsync(Polling(bad), new StringContent("40\u001e4{not json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        // Over WebSocket too: the bad socket is closed, the other session goes on.
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(WebSocketBase() + "&transport=websocket"), CancellationToken.None).Within("the WebSocket to connect");
        Assert.StartsWith("0{", await ReceiveAsync(socket), StringComparison.Ordinal);
        await SendAsync(socket, "4[\"no type\"]");
        await ReceiveCloseAsync(socket, answerPings: true).Within("the bad WebSocket to be closed", Timeout);

        await PostAsync(good, "42[\"still\",\"here\"]");
        await PostAsync(good, "41");
        Assert.Equal(HttpStatusCode.OK, await PollStatusAfterPongAsync(good).Within("a poll"));
    }

    [Fact]
    public async Task APayloadAboveMaxPayload_IsRefusedAndClosesTheSession()
    {
        var sid = await OpenAsync();
        using var response = await _http.PostAsync(Polling(sid), new StringContent("4" + new string('x', 5000)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, await PollStatusAsync(sid).Within("a poll"));

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(WebSocketBase() + "&transport=websocket"), CancellationToken.None).Within("the WebSocket to connect");
        Assert.StartsWith("0{", await ReceiveAsync(socket), StringComparison.Ordinal);
        await SendAsync(socket, "4" + new string('x', 5000));
        await ReceiveCloseAsync(socket).Within("the close frame for the oversized message");
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
    }

    [Fact]
    public async Task Cors_AnswersAPreflightFromAnAllowedOrigin_AndNoOther()
    {
        using var allowed = new HttpRequestMessage(HttpMethod.Options, new Uri("/socket.io/?EIO=4&transport=polling", UriKind.Relative));
        allowed.Headers.Add("Origin", "http://app.example");
        allowed.Headers.Add("Access-Control-Request-Method", "POST");
        using var answer = await _http.SendAsync(allowed);
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal("http://app.example", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("true", answer.Headers.GetValues("Access-Control-Allow-Credentials").Single());

        using var other = new HttpRequestMessage(HttpMethod.Get, new Uri("/socket.io/?EIO=4&transport=polling", UriKind.Relative));
        other.Headers.Add("Origin", "http://evil.example");
        using var refused = await _http.SendAsync(other);
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task TheBrowserClient_IsServedFromTheNpmPackage()
    {
        var script = await _http.GetStringAsync(new Uri("/socket.io/socket.io.js", UriKind.Relative));
        Assert.Contains("Socket.IO v4", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientClosesWhilePolling_ThePendingGetEndsWithANoop_AndTheSessionIsGone()
    {
        // The GET must be waiting when the close arrives by POST; when the POST wins the race (or a ping ends the GET
        // first), the attempt says nothing and another session tries again.
        string? answer = null;
        for (var attempt = 0; attempt < 10 && answer != "6"; attempt++)
        {
            var sid = await OpenAsync();
            var poll = _http.GetAsync(Polling(sid));
            await PostAsync(sid, "1");
            using var answered = await poll.Within("the pending GET to be answered");
            answer = answered.StatusCode == HttpStatusCode.OK ? await answered.Content.ReadAsStringAsync() : null;
            Assert.True(answer is null or "6" or "2", $"a GET pending when the client closed got '{answer}'");
            using var after = await _http.GetAsync(Polling(sid)).Within("a GET after the close");
            Assert.Equal(HttpStatusCode.BadRequest, after.StatusCode);
        }

        Assert.Equal("6", answer);
    }

    private async Task<string> OpenAsync()
    {
        var open = await _http.GetStringAsync(new Uri("/socket.io/?EIO=4&transport=polling", UriKind.Relative));
        return JsonDocument.Parse(open[1..]).RootElement.GetProperty("sid").GetString()!;
    }

    private static Uri Polling(string sid) => new($"/socket.io/?EIO=4&transport=polling&sid={Uri.EscapeDataString(sid)}", UriKind.Relative);

    private string WebSocketBase() => $"ws://{_gateway.BaseUri.Authority}/socket.io/?EIO=4";

    private Uri WebSocketUri(string sid) => new($"{WebSocketBase()}&transport=websocket&sid={Uri.EscapeDataString(sid)}");

    private async Task PostAsync(string sid, string payload)
    {
        using var response = await _http.PostAsync(Polling(sid), new StringContent(payload));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    private async Task<string> PollAsync(string sid)
    {
        using var response = await _http.GetAsync(Polling(sid));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>
    /// Polls until the namespace's CONNECT answer (<c>40{...}</c>) arrives. A ping may come first (the tests' ping
    /// interval is short): it is answered when <paramref name="pong"/>.
    /// </summary>
    private async Task ConnectedAsync(string sid, bool pong)
    {
        while (true)
        {
            var packets = (await PollAsync(sid)).Split('\u001e');
            if (pong && packets.Contains("2"))
            {
                await PostAsync(sid, "3");
            }

            if (packets.Any(p => p.StartsWith("40{", StringComparison.Ordinal)))
            {
                return;
            }
        }
    }

    /// <summary>The status of one poll (used where the session may be gone).</summary>
    private async Task<HttpStatusCode> PollStatusAsync(string sid)
    {
        using var response = await _http.GetAsync(Polling(sid));
        var body = await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.OK && body.Split('\u001e').Contains("1") ? HttpStatusCode.BadRequest : response.StatusCode;
    }

    /// <summary>Polls once more, answering a ping if one comes, and gives the status.</summary>
    private async Task<HttpStatusCode> PollStatusAfterPongAsync(string sid)
    {
        using var response = await _http.GetAsync(Polling(sid));
        var body = await response.Content.ReadAsStringAsync();
        if (body.Split('\u001e').Contains("2"))
        {
            using var pong = await _http.PostAsync(Polling(sid), new StringContent("3"));
        }

        return response.StatusCode;
    }

    /// <summary>
    /// Reads until the server closes the socket (never cancelling a receive, which would abort a
    /// <see cref="ClientWebSocket"/> and lose the close status). With <paramref name="answerPings"/> the heartbeat is kept, so that only
    /// what the test sent can be why it closes.
    /// </summary>
    private static async Task ReceiveCloseAsync(ClientWebSocket socket, bool answerPings = false)
    {
        var buffer = new byte[8192];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            if (answerPings && result.Count == 1 && buffer[0] == (byte)'2')
            {
                await SendAsync(socket, "3");
            }
        }
    }

}
