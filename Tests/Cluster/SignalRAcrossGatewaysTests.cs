using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// Ordinary SignalR code (a hub of the application's own, and IHubContext) on two gateways of one cluster: the
/// gateways run in this test process in cluster mode, the silos and Redis are processes.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SignalRAcrossGatewaysTests
{
    [Fact]
    public async Task ClientsAllGroupUserAndHubContext_ReachConnectionsOnBothGateways()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 2, gateways: 0);
        await using var gatewayA = await TestGateway.StartAsync([.. cluster.GatewayArguments("gwA")]);
        await using var gatewayB = await TestGateway.StartAsync([.. cluster.GatewayArguments("gwB")]);
        await using var alice = await gatewayA.ConnectChatAsync("alice", user: "alice");
        await using var bob = await gatewayB.ConnectChatAsync("bob", user: "bob");
        await using var alicePhone = await gatewayB.ConnectChatAsync("alice-phone", user: "alice");

        await alice.InvokeAsync("JoinGroup", "team");
        await bob.InvokeAsync("JoinGroup", "team");
        await alice.InvokeAsync("SendToAll", "to everyone");
        await bob.InvokeAsync("SendToGroup", "team", "to the team");
        await bob.InvokeAsync("SendToUser", "alice", "to alice");
        var bobId = (await bob.InvokeAsync("WhoAmI")).GetString()!;
        await gatewayA.Services.GetRequiredService<IHubContext<ChatTestHub>>().Clients.Client(bobId).SendAsync("chat", "from A's hub context").Within("a send to a connection on the other gateway");

        foreach (var client in new[] { alice, bob, alicePhone })
        {
            await client.WaitForAsync("chat", c => c.Arguments[0].GetString() == "to everyone");
        }

        await alice.WaitForAsync("chat", c => c.Arguments[0].GetString() == "to the team");
        await bob.WaitForAsync("chat", c => c.Arguments[0].GetString() == "to the team");
        await alice.WaitForAsync("chat", c => c.Arguments[0].GetString() == "to alice");
        await alicePhone.WaitForAsync("chat", c => c.Arguments[0].GetString() == "to alice");
        await bob.WaitForAsync("chat", c => c.Arguments[0].GetString() == "from A's hub context");
        Assert.Single(alice.ReceivedOn("chat"), c => c.Arguments[0].GetString() == "to everyone");
        Assert.DoesNotContain(alicePhone.ReceivedOn("chat"), c => c.Arguments[0].GetString() == "to the team");
    }
}
