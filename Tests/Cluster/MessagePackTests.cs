using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Client.Emitting;
using Realtime.Gateway.SocketIO;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// One room with JSON and MessagePack members on two gateways: the .NET client with either protocol, and the npm
/// client with @microsoft/signalr-protocol-msgpack in Node. Whoever sends (a member of either protocol, the emitter,
/// the HTTP API, socket.io code), every member gets the same event.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class MessagePackTests
{
    private const string ApiKey = "a-test-api-key-0123456789";

    [Fact]
    public async Task MixedRoomOnTwoGateways_EverySenderReachesEveryProtocol()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 1, gateways: 0);
        await using var gatewayA = await TestGateway.StartAsync([.. cluster.GatewayArguments("gwA"), $"--Api:Keys:0={ApiKey}"]);
        await using var gatewayB = await TestGateway.StartAsync([.. cluster.GatewayArguments("gwB"), $"--Api:Keys:0={ApiKey}"]);

        await using var jsonA = await SignalRTestClient.ConnectAsync(HttpUri(gatewayA), "json-A");
        await using var packA = await SignalRTestClient.ConnectAsync(HttpUri(gatewayA), "msgpack-A", messagePack: true);
        await using var packB = await SignalRTestClient.ConnectAsync(HttpUri(gatewayB), "msgpack-B", messagePack: true);
        await using var nodePackB = await NodeHubClient.ConnectAsync(HttpUri(gatewayB), "node-msgpack-B", messagePack: true);
        foreach (var join in new Func<Task<JsonElement>>[]
        {
            () => jsonA.InvokeAsync("Join", "mixed"), () => packA.InvokeAsync("Join", "mixed"),
            () => packB.InvokeAsync("Join", "mixed"), () => nodePackB.InvokeAsync("Join", "mixed"),
        })
        {
            Assert.Contains("mixed", (await join()).EnumerateArray().Select(r => r.GetString()));
        }

        // Presence, as a MessagePack client reads it: the same camelCase shape as JSON.
        var presence = await packB.InvokeAsync("Presence", "mixed");
        Assert.Equal(4, presence.GetArrayLength());
        Assert.All(presence.EnumerateArray(), p => Assert.True(p.TryGetProperty("connectionId", out _), p.ToString()));

        var data = new Dictionary<string, object> { ["text"] = "héllo", ["n"] = 42, ["ratio"] = 0.5, ["nested"] = new object[] { 1, "two", true } };
        await packB.InvokeAsync("SendToRoom", "mixed", "from-msgpack", data);
        await jsonA.InvokeAsync("SendToRoom", "mixed", "from-json", data);
        await nodePackB.InvokeAsync("SendToRoom", "mixed", "from-node", data);
        await gatewayA.Services.GetRequiredService<IRealtimeEmitter>().Room("/", "mixed").EmitAsync("from-emitter", data).Within("the emitter");
        await gatewayB.Services.GetRequiredService<SocketIOServer>().Of("/").To("mixed").EmitAsync("from-socketio", data).Within("socket.io code");
        using (var http = new HttpClient { BaseAddress = gatewayB.BaseUri, Timeout = TimeSpan.FromSeconds(10) })
        {
            http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
            var response = await http.PostAsJsonAsync("api/v1/events", new { @event = "from-api", room = "mixed", data }).Within("the HTTP API");
            response.EnsureSuccessStatusCode();
        }

        foreach (var sent in new[] { "from-msgpack", "from-json", "from-node", "from-emitter", "from-socketio", "from-api" })
        {
            JsonElement[] received =
            [
                await jsonA.WaitForEventAsync(sent), await packA.WaitForEventAsync(sent),
                await packB.WaitForEventAsync(sent), await nodePackB.WaitForEventAsync(sent),
            ];
            foreach (var e in received)
            {
                Assert.Equal("mixed", e.GetProperty("room").GetString());
                var got = e.GetProperty("data");
                Assert.Equal("héllo", got.GetProperty("text").GetString());
                Assert.Equal(42, got.GetProperty("n").GetInt32());
                Assert.Equal(0.5, got.GetProperty("ratio").GetDouble());
                Assert.Equal("[1,\"two\",true]", got.GetProperty("nested").GetRawText());
            }

            Assert.Single(received.Select(e => e.GetProperty("from").GetString()).Distinct());
        }
    }

    private static Uri HttpUri(TestGateway gateway) => new($"http://{gateway.BaseUri.Authority}/realtime");
}
