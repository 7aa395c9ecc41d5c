using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.Tokens;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>
/// <c>Auth:Authority</c>: the gateway takes an OpenID Connect provider's keys from its JWKS, and follows the
/// provider when it rotates them. The provider is a discovery document and a JWKS the test serves on loopback.
/// </summary>
public sealed class JwksAuthenticationTests : IAsyncLifetime
{
    private readonly RSA _first = RSA.Create(2048);
    private readonly RSA _second = RSA.Create(2048);
    private WebApplication _provider = null!;
    private TestGateway _gateway = null!;
    private volatile (string Kid, RSA Key)[] _published = [];
    private string _issuer = "";

    public async Task InitializeAsync()
    {
        _published = [("first", _first)];
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _provider = builder.Build();
        _provider.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = _issuer,
            ["jwks_uri"] = $"{_issuer}/jwks",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }));
        _provider.MapGet("/jwks", () => Results.Json(new { keys = _published.Select(k => Jwk(k.Kid, k.Key)).ToArray() }));
        await _provider.StartAsync().Within("the identity provider to start");
        _issuer = _provider.Urls.Single();

        _gateway = await TestGateway.StartAsync(
            $"--Auth:Authority={_issuer}",
            "--Auth:RequireHttpsMetadata=false",
            "--Auth:KeyRefreshInterval=00:00:01",
            "--Auth:RequiredNamespaces:0=/secure");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _provider.DisposeAsync();
    }

    [Fact]
    public async Task Connect_TokenSignedWithAProviderKey_TheSubjectIsTheUser()
    {
        await using var client = await ConnectAsync(Token("alice", "first", _first));

        await client.InvokeAsync("Join", "lobby");
        Assert.Equal("alice", (await client.InvokeAsync<RealtimeHubTests.PresenceDto[]>("Presence", "lobby")).Single().UserId);
    }

    [Fact]
    public async Task Connect_AfterTheProviderRotatesItsKeys_TokensWithTheNewKeyAreAccepted()
    {
        await using (var before = await ConnectAsync(Token("bob", "first", _first)))
        {
            await before.InvokeAsync("Join", "lobby");
        }

        _published = [("second", _second)];

        // The first token with the new key makes the gateway read the JWKS again (at most once a second here).
        await Eventually.TrueAsync(async () =>
        {
            await using var client = await ConnectAsync(Token("bob", "second", _second));
            var joined = client.InvokeAsync("Join", "lobby");
            return await Task.WhenAny(joined, client.Closed).Within("the gateway to answer") == joined && joined.IsCompletedSuccessfully;
        }, "a token signed with the rotated key to be accepted");

        // The retired key is gone from the JWKS; once the gateway has read it again, its tokens are refused.
        await using var old = await ConnectAsync(Token("bob", "first", _first));
        Assert.Contains("signature does not match", await old.Closed.Within("the retired key's token to be refused"));
    }

    [Fact]
    public async Task Connect_TokenFromAnotherIssuerOrKey_IsRefusedSayingWhy()
    {
        await using var wrongIssuer = await ConnectAsync(Token("eve", "first", _first, issuer: "http://127.0.0.1:1/other"));
        Assert.Contains("issuer is not the configured one", await wrongIssuer.Closed.Within("the other issuer's token to be refused"));

        using var unknown = RSA.Create(2048);
        await using var wrongKey = await ConnectAsync(Token("eve", "unknown", unknown));
        Assert.Contains("signature does not match", await wrongKey.Closed.Within("the unknown key's token to be refused"));
    }

    private Task<SignalRTestClient> ConnectAsync(string token) =>
        SignalRTestClient.ConnectAsync(new Uri($"{_gateway.HubUri("secure")}?access_token={Uri.EscapeDataString(token)}"), "client");

    private string Token(string subject, string kid, RSA key, string? issuer = null) => TestTokens.Create(
        subject,
        new SigningCredentials(new RsaSecurityKey(key) { KeyId = kid }, SecurityAlgorithms.RsaSha256),
        issuer: issuer ?? _issuer);

    private static Dictionary<string, string> Jwk(string kid, RSA key)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        return new Dictionary<string, string>
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["alg"] = "RS256",
            ["kid"] = kid,
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
        };
    }
}
