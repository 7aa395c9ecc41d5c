using System.Net;
using System.Net.WebSockets;
using Realtime.Gateway.Http;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>
/// <c>Gateway:AllowedOrigins</c>: pages of other origins are refused with 403 on SignalR and socket.io, WebSocket and
/// polling alike; allowed origins, the gateway's own, and clients without an <c>Origin</c> header connect.
/// </summary>
public sealed class AllowedOriginsTests : IAsyncLifetime
{
    private const string Allowed = "https://app.example.com";
    private const string Refused = "https://evil.example.net";

    private TestGateway _gateway = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(
        $"--Gateway:AllowedOrigins:0={Allowed}",
        "--Gateway:AllowedOrigins:1=https://*.trusted.example");

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
    }

    public static TheoryData<string?, HttpStatusCode> Origins => new()
    {
        { Refused, HttpStatusCode.Forbidden },
        { "https://app.example.com.evil.example.net", HttpStatusCode.Forbidden },
        { "https://trusted.example", HttpStatusCode.Forbidden },
        { Allowed, HttpStatusCode.OK },
        { "https://eu.trusted.example", HttpStatusCode.OK },
        { null, HttpStatusCode.OK },
    };

    [Theory]
    [MemberData(nameof(Origins))]
    public async Task SignalRNegotiate_AnsweredByOrigin(string? origin, HttpStatusCode expected)
    {
        var response = await SendAsync(HttpMethod.Post, "/realtime/negotiate?negotiateVersion=1", origin);

        Assert.Equal(expected, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Origins))]
    public async Task SocketIOPollingHandshake_AnsweredByOrigin(string? origin, HttpStatusCode expected)
    {
        var response = await SendAsync(HttpMethod.Get, "/socket.io/?EIO=4&transport=polling", origin);

        Assert.Equal(expected, response.StatusCode);
    }

    [Theory]
    [InlineData("/realtime")]
    [InlineData("/socket.io/?EIO=4&transport=websocket")]
    [InlineData("/chat")]
    public async Task WebSocket_FromARefusedOrigin_Is403_FromAnAllowedOne_Opens(string path)
    {
        var uri = new Uri($"ws://{_gateway.BaseUri.Authority}{path}");
        using var refused = new ClientWebSocket();
        refused.Options.CollectHttpResponseDetails = true;
        refused.Options.SetRequestHeader("Origin", Refused);
        await Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(uri, CancellationToken.None).Within("the refused WebSocket"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.HttpStatusCode);

        using var allowed = new ClientWebSocket();
        allowed.Options.SetRequestHeader("Origin", Allowed);
        await allowed.ConnectAsync(uri, CancellationToken.None).Within("the allowed WebSocket");
        Assert.Equal(WebSocketState.Open, allowed.State);
    }

    [Fact]
    public async Task TheGatewaysOwnOrigin_IsAlwaysAllowed()
    {
        var response = await SendAsync(HttpMethod.Post, "/realtime/negotiate?negotiateVersion=1", $"http://{_gateway.BaseUri.Authority}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AClientWithoutOrigin_ConnectsAndInvokes()
    {
        await using var client = await _gateway.ConnectAsync("server-side client");

        await client.InvokeAsync("Join", "lobby");
        Assert.Single(await client.InvokeAsync<RealtimeHubTests.PresenceDto[]>("Presence", "lobby"));
    }

    [Fact]
    public async Task OtherEndpoints_AreNotChecked()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/healthz", Refused)).StatusCode);
    }

    [Fact]
    public async Task Start_MalformedOrigin_FailsNamingTheSetting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestGateway.StartAsync("--Gateway:AllowedOrigins:0=app.example.com/"));

        Assert.Contains("Gateway:AllowedOrigins holds 'app.example.com/'", error.Message);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? origin)
    {
        using var request = new HttpRequestMessage(method, new Uri(_gateway.BaseUri, path));
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return await _http.SendAsync(request).Within($"{method} {path}");
    }
}
