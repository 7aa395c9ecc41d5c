using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>Ordinary SignalR code (hub methods and IHubContext from outside a hub) going through the grains.</summary>
public sealed class SignalRApiTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private TestGateway Gateway => fixture.Gateway;

    private IHubContext<ChatTestHub> HubContext => Gateway.Services.GetRequiredService<IHubContext<ChatTestHub>>();

    [Fact]
    public async Task ClientsGroup_FromHub_ReachesGroupMembersOnly()
    {
        var group = GatewayFixture.Unique("g");
        await using var alice = await Gateway.ConnectChatAsync("alice");
        await using var bob = await Gateway.ConnectChatAsync("bob");
        await using var carol = await Gateway.ConnectChatAsync("carol");
        await alice.InvokeAsync("JoinGroup", group);
        await bob.InvokeAsync("JoinGroup", group);

        await carol.InvokeAsync("SendToGroup", group, "hello group");

        await alice.WaitForAsync("chat", c => c.Arguments[0].GetString() == "hello group");
        await bob.WaitForAsync("chat", c => c.Arguments[0].GetString() == "hello group");
        await AssertNoChatAsync(carol);
    }

    [Fact]
    public async Task OthersInGroupAndLeave_FromHub_ExcludeCallerAndFormerMembers()
    {
        var group = GatewayFixture.Unique("g");
        await using var alice = await Gateway.ConnectChatAsync("alice");
        await using var bob = await Gateway.ConnectChatAsync("bob");
        await using var carol = await Gateway.ConnectChatAsync("carol");
        foreach (var client in new[] { alice, bob, carol })
        {
            await client.InvokeAsync("JoinGroup", group);
        }

        await carol.InvokeAsync("LeaveGroup", group);
        await alice.InvokeAsync("SendToOthersInGroup", group, "not to alice");

        await bob.WaitForAsync("chat", c => c.Arguments[0].GetString() == "not to alice");
        await AssertNoChatAsync(alice);
        await AssertNoChatAsync(carol);
    }

    [Fact]
    public async Task ClientsGroups_TwoGroups_MemberOfBothReceivesEach()
    {
        var g1 = GatewayFixture.Unique("g1");
        var g2 = GatewayFixture.Unique("g2");
        await using var alice = await Gateway.ConnectChatAsync("alice");
        await alice.InvokeAsync("JoinGroup", g1);
        await alice.InvokeAsync("JoinGroup", g2);

        await alice.InvokeAsync("SendToGroups", new[] { g1, g2 }, "twice");

        await alice.WaitForAsync("chat", c => c.Arguments[0].GetString() == "twice", count: 2);
    }

    [Fact]
    public async Task ClientsAllAndOthers_FromHub_ReachEveryConnectionOfTheHub()
    {
        var text = GatewayFixture.Unique("all");
        await using var alice = await Gateway.ConnectChatAsync("alice");
        await using var bob = await Gateway.ConnectChatAsync("bob");

        await alice.InvokeAsync("SendToAll", text);
        await alice.InvokeAsync("SendToOthers", text + "-others");

        await alice.WaitForAsync("chat", c => c.Arguments[0].GetString() == text);
        await bob.WaitForAsync("chat", c => c.Arguments[0].GetString() == text);
        await bob.WaitForAsync("chat", c => c.Arguments[0].GetString() == text + "-others");
        await AssertNoChatAsync(alice, c => c == text + "-others");
    }

    [Fact]
    public async Task ClientsUser_UserWithTwoConnections_BothReceiveOnce()
    {
        var user = GatewayFixture.Unique("user");
        await using var phone = await Gateway.ConnectChatAsync("phone", user);
        await using var laptop = await Gateway.ConnectChatAsync("laptop", user);
        await using var stranger = await Gateway.ConnectChatAsync("stranger", GatewayFixture.Unique("other"));

        await stranger.InvokeAsync("SendToUser", user, "for the user");

        await phone.WaitForAsync("chat", c => c.Arguments[0].GetString() == "for the user");
        await laptop.WaitForAsync("chat", c => c.Arguments[0].GetString() == "for the user");
        await AssertNoChatAsync(stranger);
        Assert.Single(phone.ReceivedOn("chat"));
        Assert.Single(laptop.ReceivedOn("chat"));
    }

    [Fact]
    public async Task ClientsClient_ById_ReachesThatConnectionOnly()
    {
        await using var alice = await Gateway.ConnectChatAsync("alice");
        await using var bob = await Gateway.ConnectChatAsync("bob");
        var bobId = (await bob.InvokeAsync("WhoAmI")).GetString()!;

        await alice.InvokeAsync("SendToClient", bobId, "just bob");

        await bob.WaitForAsync("chat", c => c.Arguments[0].GetString() == "just bob");
        await AssertNoChatAsync(alice);
    }

    [Fact]
    public async Task HubContext_FromOutsideAHub_GroupsAllClientAndUserWork()
    {
        var group = GatewayFixture.Unique("ctx");
        var user = GatewayFixture.Unique("ctx-user");
        await using var alice = await Gateway.ConnectChatAsync("alice", user);
        await using var bob = await Gateway.ConnectChatAsync("bob");
        var aliceId = (await alice.InvokeAsync("WhoAmI")).GetString()!;

        await HubContext.Groups.AddToGroupAsync(aliceId, group).Within("AddToGroupAsync");
        await HubContext.Clients.Group(group).SendAsync("chat", "ctx group").Within("Group send");
        await alice.WaitForAsync("chat", c => c.Arguments[0].GetString() == "ctx group");

        await HubContext.Groups.RemoveFromGroupAsync(aliceId, group).Within("RemoveFromGroupAsync");
        await HubContext.Clients.Group(group).SendAsync("chat", "nobody").Within("Group send");
        await HubContext.Clients.Client(aliceId).SendAsync("chat", "ctx client").Within("Client send");
        await HubContext.Clients.User(user).SendAsync("chat", "ctx user").Within("User send");
        await HubContext.Clients.All.SendAsync("chat", "ctx all").Within("All send");

        await alice.WaitForAsync("chat", c => c.Arguments[0].GetString() == "ctx all");
        Assert.Equal(["ctx group", "ctx client", "ctx user", "ctx all"], alice.ReceivedOn("chat").Select(c => c.Arguments[0].GetString()));
        await bob.WaitForAsync("chat", c => c.Arguments[0].GetString() == "ctx all");
        Assert.Single(bob.ReceivedOn("chat"));
    }

    /// <summary>A round trip on the same connection after the positive deliveries, then no unexpected 'chat' message.</summary>
    private static async Task AssertNoChatAsync(SignalRTestClient client, Func<string, bool>? unexpected = null)
    {
        var id = (await client.InvokeAsync("WhoAmI")).GetString()!;
        var marker = Guid.NewGuid().ToString("N");
        await client.InvokeAsync("SendToClient", id, marker);
        await client.WaitForAsync("chat", c => c.Arguments[0].GetString() == marker);
        var others = client.ReceivedOn("chat").Select(c => c.Arguments[0].GetString()!).Where(c => c != marker);
        Assert.DoesNotContain(others, new Predicate<string>(unexpected ?? (_ => true)));
    }
}
