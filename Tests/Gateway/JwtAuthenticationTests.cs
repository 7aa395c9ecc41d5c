using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using Realtime.Client.Emitting;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>JWTs from browser clients: a valid one sets the user; a bad or missing one is refused where a token is required.</summary>
public sealed class JwtAuthenticationTests : IAsyncLifetime
{
    private const string Hmac = TestTokens.HmacKey;
    private static readonly RSA Rsa = RSA.Create(2048);

    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(
        $"--Auth:HmacKey={Hmac}",
        $"--Auth:RsaPublicKeyPem={Rsa.ExportSubjectPublicKeyInfoPem()}",
        "--Auth:RequiredNamespaces:0=/secure");

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Connect_ValidHmacTokenInQuery_TheTokensSubjectIsTheUser()
    {
        await using var client = await ConnectAsync("secure", Token("alice"));

        await client.InvokeAsync("Join", "lobby");
        var presence = await client.InvokeAsync<RealtimeHubTests.PresenceDto[]>("Presence", "lobby");

        Assert.Equal("alice", Assert.Single(presence).UserId);
    }

    [Fact]
    public async Task ClientsUser_UserWithTwoTokenConnections_BothReceive()
    {
        await using var phone = await ConnectAsync("secure", Token("bob"));
        await using var laptop = await ConnectAsync(null, Token("bob"));
        // SignalR completes the handshake before the gateway registers the connection with its user; a call is
        // dispatched only after that (docs/architecture.md, "Connect"), so a round trip says both are registered.
        await phone.BarrierAsync();
        await laptop.BarrierAsync();

        await _gateway.Services.GetRequiredService<IRealtimeEmitter>().User("bob").EmitAsync("for_bob", "hi").Within("emit");

        await phone.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "for_bob");
        await laptop.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "for_bob");
    }

    [Fact]
    public async Task Connect_ValidTokenInAuthorizationHeader_IsAccepted()
    {
        await using var client = await SignalRTestClient.ConnectAsync(
            _gateway.HubUri("secure"), "header", headers: new Dictionary<string, string> { ["Authorization"] = $"Bearer {Token("carol")}" });

        await client.InvokeAsync("Join", "lobby");
        Assert.Equal("carol", (await client.InvokeAsync<RealtimeHubTests.PresenceDto[]>("Presence", "lobby")).Single().UserId);
    }

    [Fact]
    public async Task Connect_ValidRsaToken_IsAccepted()
    {
        var rsaToken = Token("dave", new SigningCredentials(new RsaSecurityKey(Rsa), SecurityAlgorithms.RsaSha256));
        await using var client = await ConnectAsync("secure", rsaToken);

        await client.InvokeAsync("Join", "lobby");
        Assert.Equal("dave", (await client.InvokeAsync<RealtimeHubTests.PresenceDto[]>("Presence", "lobby")).Single().UserId);
    }

    public static TheoryData<string, string, string> Refused => new()
    {
        { "expired", Token("eve", expires: DateTime.UtcNow.AddMinutes(-5)), "Authentication failed: the token expired" },
        { "wrongly signed", Token("eve", new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes("another-secret-that-is-32-bytes-long!")), SecurityAlgorithms.HmacSha256)), "signature does not match" },
        { "malformed", "not.a.jwt", "Authentication failed: the token is malformed" },
        { "missing", "", "The namespace /secure requires a token" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Connect_RequiredNamespaceWithBadOrMissingToken_IsRefusedSayingWhy(string what, string token, string expected)
    {
        await using var client = await ConnectAsync("secure", token);

        var reason = await client.Closed.Within($"the {what} token to be refused");

        Assert.NotNull(reason);
        Assert.Contains(expected, reason);
    }

    [Fact]
    public async Task Connect_OpenNamespaceWithoutToken_IsAnonymous()
    {
        await using var client = await ConnectAsync("open", "");

        await client.InvokeAsync("Join", "lobby");
        Assert.Null((await client.InvokeAsync<RealtimeHubTests.PresenceDto[]>("Presence", "lobby")).Single().UserId);
    }

    [Fact]
    public async Task Connect_OpenNamespaceWithBadToken_IsRefused()
    {
        await using var client = await ConnectAsync("open", Token("eve", expires: DateTime.UtcNow.AddMinutes(-5)));

        Assert.Contains("the token expired", await client.Closed.Within("the bad token to be refused"));
    }

    [Fact]
    public async Task Start_RequiredNamespacesWithoutAKey_FailsNamingTheSetting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestGateway.StartAsync("--Auth:RequiredNamespaces:0=/x"));

        Assert.Contains("Auth:RequiredNamespaces needs a key", error.Message);
    }

    private Task<SignalRTestClient> ConnectAsync(string? @namespace, string token)
    {
        var uri = _gateway.HubUri(@namespace);
        return SignalRTestClient.ConnectAsync(token.Length == 0 ? uri : new Uri($"{uri}?access_token={Uri.EscapeDataString(token)}"), "client");
    }

    private static string Token(string subject, SigningCredentials? credentials = null, DateTime? expires = null) =>
        TestTokens.Create(subject, credentials, expires);
}
