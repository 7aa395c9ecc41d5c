using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// <c>samples/ExistingApp</c>: an application's own hub, page and endpoints, made clustered by
/// <c>AddSignalR().AddRealtime(...)</c>. Two processes of it form a cluster: a group spans them, <c>IHubContext</c> on
/// one reaches the clients of the other, and socket.io on the same application broadcasts across them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ExistingAppTests
{
    [Fact]
    public async Task TwoNodesOfTheApp_ShareItsHubsGroups_ItsHubContext_AndSocketIO()
    {
        // Started as the cluster's gateways, each once its readiness check (AddHealthChecks().AddRealtimeGateway()) is healthy.
        await using var cluster = await TestCluster.StartAsync(silos: 0, gateways: 2, gatewayProgram: TestCluster.ExistingApp);
        var (a, b) = (cluster.Gateways[0], cluster.Gateways[1]);
        string[] methods = ["said", "announcement"];
        await using var onA = await SignalRTestClient.ConnectAsync(new Uri($"http://127.0.0.1:{a.Port}/chat"), "on-a", methods: methods);
        await using var onB = await SignalRTestClient.ConnectAsync(new Uri($"http://127.0.0.1:{b.Port}/chat"), "on-b", methods: methods);

        // The hub's own group, across the two nodes.
        await onA.InvokeAsync("Join", "lobby");
        await onB.InvokeAsync("Join", "lobby");
        await onB.InvokeAsync("Say", "lobby", "hello from b");
        var said = (await onA.WaitForAsync("said"))[0];
        Assert.Equal("hello from b", said.Arguments[0].GetProperty("text").GetString());

        // IHubContext on node B reaches node A's client.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var announced = await http.PostAsync($"http://127.0.0.1:{b.Port}/announce?text=doors%20open", null).Within("the announcement");
        Assert.True(announced.IsSuccessStatusCode, await announced.Content.ReadAsStringAsync());
        Assert.Equal("doors open", (await onA.WaitForAsync("announcement"))[0].Arguments[0].GetString());

        // socket.io on the same application: an event on node A reaches a socket on node B.
        await using var sockets = await SocketIOClients.StartAsync();
        await sockets.ConnectOrThrowAsync("sa", $"http://127.0.0.1:{a.Port}/");
        await sockets.ConnectOrThrowAsync("sb", $"http://127.0.0.1:{b.Port}/");
        await sockets.EmitAsync("sa", "say", "hi over socket.io");
        Assert.Equal("hi over socket.io", (await sockets.WaitForAsync("sb", "said"))[0].GetProperty("text").GetString());

        // Its own page, with the SignalR client the library serves from its npm package.
        Assert.Contains("ChatHub", await http.GetStringAsync($"http://127.0.0.1:{a.Port}/").Within("the page"), StringComparison.Ordinal);
        Assert.Contains("signalR", await http.GetStringAsync($"http://127.0.0.1:{a.Port}/lib/signalr/signalr.min.js").Within("the client"), StringComparison.Ordinal);
        Assert.Equal("Healthy", await http.GetStringAsync($"http://127.0.0.1:{a.Port}/healthz/ready").Within("the readiness"));
    }
}
