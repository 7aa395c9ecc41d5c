using Microsoft.Extensions.DependencyInjection;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.SocketIO;

/// <summary>The stock gateway with the npm socket.io-client: JWT authentication on the handshake request.</summary>
public sealed class SocketIOGatewayTests
{
    [Fact]
    public async Task ANamespaceThatRequiresAToken_RefusesAClientWithoutOne_AndAdmitsOneWithIt()
    {
        await using var gateway = await TestGateway.StartAsync($"--Auth:HmacKey={TestTokens.HmacKey}", "--Auth:RequiredNamespaces:0=/");
        await using var clients = await SocketIOClients.StartAsync();
        var url = gateway.BaseUri.ToString().TrimEnd('/');

        var refused = await clients.ConnectAsync("anonymous", url);
        Assert.StartsWith("The namespace / requires a token", refused.GetProperty("error").GetString(), StringComparison.Ordinal);

        var forged = await clients.ConnectAsync("forged", url, new { query = new { access_token = "not.a.token" } });
        Assert.StartsWith("Authentication failed", forged.GetProperty("error").GetString(), StringComparison.Ordinal);

        await clients.ConnectOrThrowAsync("alice", url, new { query = new { access_token = TestTokens.Create("alice") }, transports = new[] { "websocket" } });
        var presence = await gateway.Services.GetRequiredService<Realtime.Client.Operations.IRealtimeCluster>().NamespacePresenceAsync("/").Within("the presence list");
        Assert.Equal("alice", Assert.Single(presence).UserId);
    }
}
