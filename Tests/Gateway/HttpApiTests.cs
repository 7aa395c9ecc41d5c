using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Gateway.Cluster;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>The HTTP API on a real gateway: every endpoint, the key check, and a clear 4xx for each bad input.</summary>
public sealed class HttpApiTests : IAsyncLifetime
{
    private const string Key = "test-key-0123456789abcdef";

    private TestGateway _gateway = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _gateway = await TestGateway.StartAsync($"--Api:Keys:0={Key}", "--Api:Keys:1=another-key-0123456789");
        _http = new HttpClient { BaseAddress = _gateway.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        _http.DefaultRequestHeaders.Add("X-Api-Key", Key);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
    }

    [Fact]
    public async Task PostEvents_ToRoomNamespaceConnectionAndUser_ReachTheirTargets()
    {
        await using var alice = await _gateway.ConnectAsync("alice", "chat", user: "alice-user");
        await using var bob = await _gateway.ConnectAsync("bob", "chat");
        await alice.InvokeAsync("Join", "lobby");
        var bobId = (await bob.InvokeAsync("ConnectionId")).GetString()!;

        await AssertStatusAsync(HttpStatusCode.Accepted, Post(new { @event = "to_room", data = new { n = 1 }, @namespace = "/chat", room = "lobby" }));
        await AssertStatusAsync(HttpStatusCode.Accepted, Post(new { @event = "to_all", data = "all", @namespace = "/chat" }));
        await AssertStatusAsync(HttpStatusCode.Accepted, Post(new { @event = "to_bob", data = "b", connectionId = bobId }));
        await AssertStatusAsync(HttpStatusCode.Accepted, Post(new { @event = "to_user", data = "u", userId = "alice-user" }));

        await alice.WaitForAsync("event", e => Event(e) == "to_room");
        await alice.WaitForAsync("event", e => Event(e) == "to_all");
        await alice.WaitForAsync("event", e => Event(e) == "to_user");
        await bob.WaitForAsync("event", e => Event(e) == "to_all");
        await bob.WaitForAsync("event", e => Event(e) == "to_bob");
        await RealtimeHubTests.AssertNothingArrivedAsync(bob, except: 2);
    }

    [Fact]
    public async Task PresenceJoinLeaveAndDisconnect_ActOnConnections()
    {
        await using var alice = await _gateway.ConnectAsync("alice", "ops");
        var aliceId = (await alice.InvokeAsync("ConnectionId")).GetString()!;

        await AssertStatusAsync(HttpStatusCode.NoContent, _http.PutAsync($"api/v1/connections/{aliceId}/rooms/lobby", null));
        Assert.Equal(["lobby"], await alice.InvokeAsync<string[]>("Rooms"));
        var presence = await _http.GetFromJsonAsync<JsonElement[]>("api/v1/presence?namespace=/ops&room=lobby&data=true");
        Assert.Equal(aliceId, Assert.Single(presence!).GetProperty("connectionId").GetString());
        var roomCount = await _http.GetFromJsonAsync<JsonElement>("api/v1/presence/count?namespace=/ops&room=lobby");
        var namespaceCount = await _http.GetFromJsonAsync<JsonElement>("api/v1/presence/count?namespace=/ops");
        Assert.Equal(1, roomCount.GetProperty("count").GetInt32());
        Assert.Equal(1, namespaceCount.GetProperty("count").GetInt32());

        await AssertStatusAsync(HttpStatusCode.NoContent, _http.DeleteAsync($"api/v1/connections/{aliceId}/rooms/lobby"));
        Assert.Empty(await alice.InvokeAsync<string[]>("Rooms"));

        await AssertStatusAsync(HttpStatusCode.NoContent, _http.DeleteAsync($"api/v1/connections/{aliceId}"));
        await alice.Closed.Within("the API to close the connection");
    }

    [Fact]
    public async Task PostInvoke_ClientAnswersErrsOrStaysSilent_200Or502Or504()
    {
        await using var client = await _gateway.ConnectAsync("asked");
        client.Answer("getLocation", 1, args => args[0].GetString() == "nowhere" ? throw new InvalidOperationException("no location") : new { city = args[0].GetString() });
        await using var silent = await _gateway.ConnectAsync("silent");
        silent.AnswerLater("getLocation", 0, _ => new TaskCompletionSource<object?>().Task); // never answers
        var id = (await client.InvokeAsync("ConnectionId")).GetString()!;
        var silentId = (await silent.InvokeAsync("ConnectionId")).GetString()!;

        var answered = await _http.PostAsJsonAsync($"api/v1/connections/{id}/invoke", new { method = "getLocation", args = new[] { "Oslo" } }).Within("invoke");
        var failed = await _http.PostAsJsonAsync($"api/v1/connections/{id}/invoke", new { method = "getLocation", args = new[] { "nowhere" } }).Within("invoke with error");
        var timedOut = await _http.PostAsJsonAsync($"api/v1/connections/{silentId}/invoke", new { method = "getLocation", timeoutSeconds = 0.5 }).Within("invoke timing out");
        var unknown = await _http.PostAsJsonAsync("api/v1/connections/nobody/invoke", new { method = "getLocation" }).Within("invoke unknown");

        Assert.Equal("Oslo", (await answered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("result").GetProperty("city").GetString());
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Contains("no location", await DetailAsync(failed));
        Assert.Equal(HttpStatusCode.GatewayTimeout, timedOut.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        // A timeout outside what the cluster can wait for is the caller's error, with the range it may use.
        foreach (var seconds in new[] { 0, -1, 300.5, 1e12 })
        {
            var refused = await _http.PostAsJsonAsync($"api/v1/connections/{id}/invoke", new { method = "getLocation", args = new[] { "Oslo" }, timeoutSeconds = seconds }).Within("invoke with a bad timeout");
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("\"timeoutSeconds\" must be greater than 0 and at most 300", await DetailAsync(refused));
        }
    }

    [Fact]
    public async Task PostServerEvents_FromAService_EveryGatewayHearsIt()
    {
        var heard = new TaskCompletionSource<Realtime.Gateway.Cluster.ServerEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = _gateway.Services.GetRequiredService<Realtime.Gateway.Cluster.IServerEvents>().On("cache_flush", e =>
        {
            heard.TrySetResult(e);
            return Task.CompletedTask;
        });
        await Eventually.TrueAsync(async () => (await _http.PostAsJsonAsync("api/v1/server-events", new { @event = "probe" })).IsSuccessStatusCode, "the gateway is registered");

        var response = await _http.PostAsJsonAsync("api/v1/server-events", new { @event = "cache_flush", data = new { key = "users" } }).Within("server event");
        var bad = await _http.PostAsJsonAsync("api/v1/server-events", new { data = 1 }).Within("server event without a name");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("gateways").GetInt32());
        Assert.Equal("users", (await heard.Task.Within("the gateway to hear it")).Data.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task DisconnectUserAndRoom_CloseEveryMatchingConnection()
    {
        await using var phone = await _gateway.ConnectAsync("phone", user: "carol");
        await using var laptop = await _gateway.ConnectAsync("laptop", user: "carol");
        await using var a = await _gateway.ConnectAsync("a");
        await a.InvokeAsync("Join", "doomed-room");

        var user = await (await _http.DeleteAsync("api/v1/users/carol/connections")).Content.ReadFromJsonAsync<JsonElement>();
        var room = await (await _http.DeleteAsync("api/v1/rooms/doomed-room/connections?namespace=/")).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(2, user.GetProperty("disconnected").GetInt32());
        Assert.Equal(1, room.GetProperty("disconnected").GetInt32());
        await Task.WhenAll(phone.Closed, laptop.Closed, a.Closed).Within("the three connections to close");
    }

    [Theory]
    [InlineData(null, "header is missing")]
    [InlineData("wrong-key-0123456789abcdef", "does not hold a valid key")]
    public async Task AnyEndpoint_MissingOrWrongKey_Is401(string? key, string expected)
    {
        using var http = new HttpClient { BaseAddress = _gateway.BaseUri };
        if (key is not null)
        {
            http.DefaultRequestHeaders.Add("X-Api-Key", key);
        }

        var response = await http.GetAsync("api/v1/presence").Within("presence");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(expected, await DetailAsync(response));
    }

    [Fact]
    public async Task AnyEndpoint_SecondConfiguredKey_IsAccepted()
    {
        using var http = new HttpClient { BaseAddress = _gateway.BaseUri };
        http.DefaultRequestHeaders.Add("X-Api-Key", "another-key-0123456789");

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/presence").Within("presence")).StatusCode);
    }

    public static TheoryData<string, HttpStatusCode, string> BadEvents => new()
    {
        { "{ not json", HttpStatusCode.BadRequest, "not valid JSON" },
        { """{"data":1}""", HttpStatusCode.BadRequest, "needs an \"event\" name" },
        { """{"event":"e","room":""}""", HttpStatusCode.BadRequest, "Invalid room name" },
        { """{"event":"e","namespace":"chat"}""", HttpStatusCode.BadRequest, "written '/' or '/name'" },
        { """{"event":"e","namespace":"/a/b"}""", HttpStatusCode.BadRequest, "cannot contain '/'" },
        { """{"event":"e","room":"r","userId":"u"}""", HttpStatusCode.BadRequest, "at most one of" },
        { """{"event":"","room":"r"}""", HttpStatusCode.BadRequest, "needs an \"event\" name" },
        { """{"event":"bad\u0007","room":"r"}""", HttpStatusCode.BadRequest, "Invalid event name" },
        { $$"""{"event":"big","data":"{{new string('x', 70_000)}}"}""", HttpStatusCode.RequestEntityTooLarge, "Gateway:MaxMessageBytes" },
        { $$"""{"event":"huge","data":"{{new string('x', 200_000)}}"}""", HttpStatusCode.RequestEntityTooLarge, "at most 131072 are read" },
    };

    [Theory]
    [MemberData(nameof(BadEvents))]
    public async Task PostEvents_BadInput_Is4xxSayingWhy(string body, HttpStatusCode status, string expected)
    {
        var response = await _http.PostAsync("api/v1/events", new StringContent(body, Encoding.UTF8, "application/json")).Within("post");

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(expected, await DetailAsync(response));
    }

    [Fact]
    public async Task ConnectionEndpoints_UnknownConnection_Are404()
    {
        await AssertStatusAsync(HttpStatusCode.NotFound, _http.PutAsync("api/v1/connections/nobody/rooms/lobby", null));
        await AssertStatusAsync(HttpStatusCode.NotFound, _http.DeleteAsync("api/v1/connections/nobody/rooms/lobby"));
        await AssertStatusAsync(HttpStatusCode.NotFound, _http.DeleteAsync("api/v1/connections/nobody"));
        await AssertStatusAsync(HttpStatusCode.NotFound, Post(new { @event = "to_nobody", data = 1, connectionId = "nobody" }));
    }

    [Fact]
    public async Task Presence_InvalidNamespace_Is400()
    {
        var response = await _http.GetAsync("api/v1/presence?namespace=nope").Within("presence");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("written '/' or '/name'", await DetailAsync(response));
    }

    [Fact]
    public async Task OpenApi_IsServedAndDescribesEveryEndpoint()
    {
        var document = await _http.GetFromJsonAsync<JsonElement>("openapi/v1.json").Within("the OpenAPI document");

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Contains("/api/v1/events", paths);
        Assert.Contains("/api/v1/presence", paths);
        Assert.Contains("/api/v1/connections/{connectionId}/rooms/{room}", paths);
        Assert.Contains("/api/v1/users/{userId}/connections", paths);
        Assert.Contains("/api/v1/connections/{connectionId}/invoke", paths);
        Assert.Contains("/api/v1/server-events", paths);
    }

    [Fact]
    public async Task Api_NoKeysConfigured_IsNotServed()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };
        http.DefaultRequestHeaders.Add("X-Api-Key", Key);

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("api/v1/presence").Within("presence")).StatusCode);
    }

    /// <summary>The "detail" of an RFC 9457 problem answer.</summary>
    private static async Task<string> DetailAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;

    private Task<HttpResponseMessage> Post(object body) => _http.PostAsJsonAsync("api/v1/events", body);

    private static async Task AssertStatusAsync(HttpStatusCode expected, Task<HttpResponseMessage> request)
    {
        var response = await request.Within("the API call");
        Assert.True(expected == response.StatusCode, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private static string? Event(ReceivedInvocation e) => e.Arguments[0].GetProperty("event").GetString();
}
