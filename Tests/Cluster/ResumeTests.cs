using System.Text.Json;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// Resuming a SignalR session on another gateway with the real .NET client: rooms and data back, the messages missed
/// meanwhile in order, then the live flow without a gap or a duplicate; and a clear answer where a replay cannot be
/// whole.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ResumeTests
{
    [Fact]
    public async Task ReconnectThroughTheOtherGateway_Resume_ReplaysWhatWasMissed_ThenTheLiveFlow()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 1, gateways: 0);
        await using var gatewayA = await TestGateway.StartAsync([.. cluster.GatewayArguments("gwA")]);
        await using var gatewayB = await TestGateway.StartAsync([.. cluster.GatewayArguments("gwB")]);
        await using var sender = await gatewayB.ConnectAsync("sender");

        var alice = await gatewayA.ConnectAsync("alice");
        await alice.InvokeAsync("Join", "lobby");
        await alice.InvokeAsync("Join", "news");
        var ticket = await alice.InvokeAsync("Session");
        await sender.InvokeAsync("SendToRoom", "lobby", "m1", 1);
        await sender.InvokeAsync("SendToRoom", "news", "n0", 0);
        var positions = new[] { Position(await alice.WaitForEventAsync("m1")), Position(await alice.WaitForEventAsync("n0")) };
        await alice.DisposeAsync();

        // Sent while alice is away.
        await sender.InvokeAsync("SendToRoom", "lobby", "m2", 2);
        await sender.InvokeAsync("SendToRoom", "lobby", "m3", 3);
        await sender.InvokeAsync("SendToRoom", "news", "n1", 1);

        await using var back = await gatewayB.ConnectAsync("alice-again");
        var result = await back.InvokeAsync("Resume", ticket.GetProperty("connectionId").GetString(), ticket.GetProperty("token").GetString(), positions);

        Assert.True(result.GetProperty("recovered").GetBoolean(), result.ToString());
        Assert.Equal(["lobby", "news"], result.GetProperty("rooms").EnumerateArray().Select(r => r.GetString()).Order());
        Assert.Equal(3, result.GetProperty("replayed").GetInt32());
        Assert.Empty(result.GetProperty("lost").EnumerateArray());
        await sender.InvokeAsync("SendToRoom", "lobby", "m4", 4);

        await back.WaitForEventAsync("m4");
        await back.WaitForEventAsync("n1");
        Assert.Equal(["m2", "m3", "m4"], back.Events().Where(e => e.Room == "lobby").Select(e => e.Event));
        Assert.Equal(["n1"], back.Events().Where(e => e.Room == "news").Select(e => e.Event));

        // A session is taken back once.
        await using var thief = await gatewayA.ConnectAsync("thief");
        var again = await thief.InvokeAsync("Resume", ticket.GetProperty("connectionId").GetString(), ticket.GetProperty("token").GetString(), positions);
        Assert.False(again.GetProperty("recovered").GetBoolean());
    }

    [Fact]
    public async Task MissedMoreThanTheHistoryHolds_TheRoomIsReportedLost_NeverASilentGap()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 0, gateways: 0);
        await cluster.StartSiloAsync("--History:MaxMessages=2");
        // The gateway is a silo too, and may hold the room: every silo of a cluster takes the same history settings.
        await using var gateway = await TestGateway.StartAsync([.. cluster.GatewayArguments("gw"), "--History:MaxMessages=2"]);
        await using var sender = await gateway.ConnectAsync("sender");
        var bob = await gateway.ConnectAsync("bob");
        await bob.InvokeAsync("Join", "busy");
        var ticket = await bob.InvokeAsync("Session");
        await sender.InvokeAsync("SendToRoom", "busy", "first", 0);
        var position = Position(await bob.WaitForEventAsync("first"));
        await bob.DisposeAsync();
        for (var i = 0; i < 4; i++)
        {
            await sender.InvokeAsync("SendToRoom", "busy", $"missed{i}", i);
        }

        await using var back = await gateway.ConnectAsync("bob-again");
        var result = await back.InvokeAsync("Resume", ticket.GetProperty("connectionId").GetString(), ticket.GetProperty("token").GetString(), new[] { position });

        Assert.True(result.GetProperty("recovered").GetBoolean());
        Assert.Equal(["busy"], result.GetProperty("lost").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(0, result.GetProperty("replayed").GetInt32());

        // Still in the room: the live flow goes on.
        await sender.InvokeAsync("SendToRoom", "busy", "live", 5);
        await back.WaitForEventAsync("live");
        Assert.DoesNotContain(back.Events(), e => e.Event.StartsWith("missed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrongToken_NothingIsTakenBack()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var owner = await gateway.ConnectAsync("owner");
        var ticket = await owner.InvokeAsync("Session");

        await using var other = await gateway.ConnectAsync("other");
        var result = await other.InvokeAsync("Resume", ticket.GetProperty("connectionId").GetString(), "not-the-token", Array.Empty<object>());

        Assert.False(result.GetProperty("recovered").GetBoolean());
    }

    private static object Position(JsonElement e) => new
    {
        room = e.GetProperty("room").GetString(),
        epoch = e.GetProperty("epoch").GetString(),
        seq = e.GetProperty("seq").GetInt64(),
    };
}
