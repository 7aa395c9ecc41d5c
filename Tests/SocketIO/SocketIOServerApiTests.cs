using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Gateway.Cluster;
using Realtime.Gateway.Hosting;
using Realtime.Gateway.SocketIO;
using Realtime.Tests.Cluster;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// The C# socket.io API across two gateways of one cluster (in this test process, with Redis and silos as
/// processes), driven from one gateway while npm socket.io-client sockets sit on both.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SocketIOServerApiTests
{
    [Fact]
    public async Task ClusterWideOperations_ReachSocketsOnBothGateways()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 1, gateways: 0);
        await using var gatewayA = await TestGateway.StartAsync([.. cluster.GatewayArguments("gwA")]);
        await using var gatewayB = await TestGateway.StartAsync([.. cluster.GatewayArguments("gwB")]);
        var ioA = gatewayA.Services.GetRequiredService<SocketIOServer>();
        var ioB = gatewayB.Services.GetRequiredService<SocketIOServer>();
        foreach (var io in new[] { ioA, ioB })
        {
            io.Of("/api").OnConnection(socket => socket.Data["name"] = socket.Handshake.Auth.GetProperty("name").GetString());
        }

        var heard = new TaskCompletionSource<ServerEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = ioB.Of("/api").OnServerSideEmit("hello", e =>
        {
            heard.TrySetResult(e);
            return Task.CompletedTask;
        });

        await using var clients = await SocketIOClients.StartAsync();
        var a1 = await clients.ConnectOrThrowAsync("a1", gatewayA.BaseUri + "api", new { auth = new { name = "a1" } });
        var b1 = await clients.ConnectOrThrowAsync("b1", gatewayB.BaseUri + "api", new { auth = new { name = "b1" }, transports = new[] { "polling" } });
        var b2 = await clients.ConnectOrThrowAsync("b2", gatewayB.BaseUri + "api", new { auth = new { name = "b2" } });
        var api = ioA.Of("/api");

        // Every socket, with the data its own gateway gave it.
        IReadOnlyList<RemoteSocket> sockets = [];
        await Eventually.TrueAsync(
            async () => (sockets = await api.FetchSocketsAsync()).Count(s => s.Data?.TryGetProperty("name", out _) == true) == 3,
            "every socket's data is readable from gateway A");
        Assert.Equal(["a1", "b1", "b2"], sockets.Select(s => s.Data!.Value.GetProperty("name").GetString()!).Order());
        Assert.Equal(2, sockets.Count(s => s.GatewayId.StartsWith("gwB", StringComparison.Ordinal)));

        // Make sockets on either gateway join rooms, from gateway A.
        await api.To(a1).SocketsJoinAsync("red").Within("a1 to join red");
        await api.To(a1).SocketsJoinAsync("blue").Within("a1 to join blue");
        await api.To(b1).SocketsJoinAsync("red").Within("b1 to join red");
        await api.To(b1).SocketsJoinAsync("green").Within("b1 to join green");
        await api.To(b2).SocketsJoinAsync("blue").Within("b2 to join blue");
        var b1Seen = (await api.To(b1).FetchSocketsAsync().Within("b1's rooms")).Single();
        Assert.Equal(new[] { b1, "green", "red" }.Order(StringComparer.Ordinal), b1Seen.Rooms.Order(StringComparer.Ordinal));

        // To red or blue, except green: a1 (in both) once, b2; not b1.
        await api.To("red").To("blue").Except("green").EmitAsync("news", "filtered").Within("the filtered emit");
        await clients.WaitForAsync("a1", "news");
        await clients.WaitForAsync("b2", "news");
        await api.EmitAsync("news", "marker").Within("the marker");
        foreach (var client in new[] { "a1", "b1", "b2" })
        {
            await clients.WaitForAsync(client, "news", a => a[0].GetString() == "marker");
        }

        Assert.Single(clients.Received("a1", "news"), a => a[0].GetString() == "filtered");
        Assert.DoesNotContain(clients.Received("b1", "news"), a => a[0].GetString() == "filtered");

        // Leave, from gateway A: b2 no longer hears blue.
        await api.To(b2).SocketsLeaveAsync("blue").Within("b2 to leave blue");
        await api.To("blue").EmitAsync("news", "blue only").Within("the emit to blue");
        await clients.WaitForAsync("a1", "news", a => a[0].GetString() == "blue only");
        await api.To(b2).EmitAsync("news", "direct").Within("the emit to b2 by its id");
        await clients.WaitForAsync("b2", "news", a => a[0].GetString() == "direct");
        Assert.DoesNotContain(clients.Received("b2", "news"), a => a[0].GetString() == "blue only");

        // Server-side events reach the other gateway.
        Assert.True(await api.ServerSideEmitAsync("hello", new { from = "A" }).Within("the server-side emit") >= 1);
        var serverEvent = await heard.Task.Within("gateway B to hear the server-side event");
        Assert.Equal("A", serverEvent.Data.GetProperty("from").GetString());

        // Disconnect the sockets of a room, wherever they are.
        await api.In("green").DisconnectSocketsAsync().Within("the sockets of green to be disconnected");
        await clients.WaitForAsync("b1", "$disconnect", a => a[0].GetString() == "io server disconnect");
        await Eventually.TrueAsync(async () => (await api.FetchSocketsAsync()).Count == 2, "b1 is gone from the namespace");
    }

    [Fact]
    public async Task ABroadcastWithAcknowledgements_GathersTheAnswersOfSocketsOnBothGateways_AndCountsThoseThatGaveNone()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 1, gateways: 0);
        await using var gatewayA = await TestGateway.StartAsync([.. cluster.GatewayArguments("gwA")]);
        await using var gatewayB = await TestGateway.StartAsync([.. cluster.GatewayArguments("gwB")]);
        foreach (var gateway in new[] { gatewayA, gatewayB })
        {
            gateway.Services.GetRequiredService<SocketIOServer>().Of("/acks").OnConnection(_ => { });
        }

        await using var clients = await SocketIOClients.StartAsync();
        await clients.ConnectOrThrowAsync("a1", gatewayA.BaseUri + "acks");
        await clients.ConnectOrThrowAsync("b1", gatewayB.BaseUri + "acks");
        await clients.ConnectOrThrowAsync("b2", gatewayB.BaseUri + "acks");
        await clients.AnswerAsync("a1", "ping", "a1").Within("a1's answer to be set");
        await clients.AnswerAsync("b1", "ping", "b1").Within("b1's answer to be set");
        var acks = gatewayA.Services.GetRequiredService<SocketIOServer>().Of("/acks");
        await Eventually.TrueAsync(async () => (await acks.FetchSocketsAsync()).Count == 3, "the three sockets to be in the namespace");

        // b2 has no answer: the answers that came are kept, and the one missing is counted.
        var missing = await Assert.ThrowsAsync<SocketIOAckTimeoutException>(() => acks.Timeout(TimeSpan.FromSeconds(1)).EmitWithAckAsync("ping").Within("the broadcast"));
        Assert.Equal(3, missing.Expected);
        Assert.Equal(["a1", "b1"], missing.Responses.Select(r => r.GetString()!).Order(StringComparer.Ordinal));

        await clients.AnswerAsync("b2", "ping", "b2").Within("b2's answer to be set");
        var answers = await acks.Timeout(TimeSpan.FromSeconds(10)).EmitWithAckAsync("ping").Within("the broadcast");
        Assert.Equal(["a1", "b1", "b2"], answers.Select(r => r.GetString()!).Order(StringComparer.Ordinal));
    }
}
