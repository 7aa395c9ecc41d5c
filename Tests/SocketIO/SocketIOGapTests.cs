using Microsoft.Extensions.DependencyInjection;
using Realtime.Gateway.SocketIO;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// A socket.io socket that missed room messages which history could not give back (a delivery lost in flight with a
/// dead silo, past what the room keeps) is never left with a silent gap: socket.io has no event of its own for one, so
/// it is sent <c>realtime:missed</c>, naming the room and the numbers, as SignalR connections are sent <c>missed</c>,
/// and goes on.
/// </summary>
public sealed class SocketIOGapTests
{
    [Fact]
    public async Task AGapHistoryCannotFill_IsToldToTheSocket_WhichGoesOnInItsRoom_WhileOthersHearNothing()
    {
        await using var gateway = await TestGateway.StartAsync("--SocketIO:ConnectionStateRecovery:Enabled=true");
        await using var clients = await SocketIOClients.StartAsync();
        var url = gateway.BaseUri.ToString().TrimEnd('/');
        var io = gateway.Services.GetRequiredService<SocketIOServer>();
        var alice = await clients.ConnectOrThrowAsync("alice", url, new { transports = new[] { "websocket" } });
        var bob = await clients.ConnectOrThrowAsync("bob", url, new { transports = new[] { "polling" } });
        await io.Of("/").To(alice).SocketsJoinAsync("news").Within("alice to join news");
        await io.Of("/").To(bob).SocketsJoinAsync("news").Within("bob to join news");
        await io.Of("/").To("news").EmitAsync("headline", "one").Within("the first headline");
        await clients.WaitForAsync("alice", "headline");

        // What the delivery order does when it gives up on a run that history no longer holds.
        var connection = io.Hub.Local(alice) ?? throw new InvalidOperationException("alice is not on this gateway");
        connection.Missed("news", "0123456789ab", 2, 5);

        var missed = (await clients.WaitForAsync("alice", "realtime:missed"))[0];
        Assert.Equal("news", missed.GetProperty("room").GetString());
        Assert.Equal("0123456789ab", missed.GetProperty("epoch").GetString());
        Assert.Equal(2, missed.GetProperty("from").GetInt64());
        Assert.Equal(5, missed.GetProperty("to").GetInt64());

        // Both go on in the room; only alice was told, and no one was disconnected.
        await io.Of("/").To("news").EmitAsync("headline", "two").Within("the second headline");
        await clients.WaitForAsync("alice", "headline", a => a[0].GetString() == "two");
        await clients.WaitForAsync("bob", "headline", a => a[0].GetString() == "two");
        Assert.Empty(clients.Received("bob", "realtime:missed"));
        Assert.All(new[] { "alice", "bob" }, name => Assert.Empty(clients.Received(name, "$disconnect")));
    }
}
