using Microsoft.Extensions.DependencyInjection;
using Realtime.Gateway.SocketIO;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// A socket.io socket that missed room messages which history could not give back (a delivery lost in flight with a
/// dead silo, past what the room keeps) is never left with a silent gap: socket.io has no event for one, so its
/// connection closes and its client reconnects, and recovers from the offset it holds, or starts afresh.
/// </summary>
public sealed class SocketIOGapTests
{
    [Fact]
    public async Task AGapHistoryCannotFill_ClosesTheSocketsConnection_AndTheClientComesBack_WhileOthersStay()
    {
        await using var gateway = await TestGateway.StartAsync("--SocketIO:ConnectionStateRecovery:Enabled=true");
        await using var clients = await SocketIOClients.StartAsync();
        var url = gateway.BaseUri.ToString().TrimEnd('/');
        var io = gateway.Services.GetRequiredService<SocketIOServer>();
        var alice = await clients.ConnectOrThrowAsync("alice", url, new { transports = new[] { "websocket" }, reconnection = true, reconnectionDelay = 100 });
        var bob = await clients.ConnectOrThrowAsync("bob", url, new { transports = new[] { "websocket" } });
        await io.Of("/").To(alice).SocketsJoinAsync("news").Within("alice to join news");
        await io.Of("/").To(bob).SocketsJoinAsync("news").Within("bob to join news");
        await io.Of("/").To("news").EmitAsync("headline", "one").Within("the first headline");
        await clients.WaitForAsync("alice", "headline");

        // What the delivery order does when it gives up on a run that history no longer holds.
        var connection = io.Hub.Local(alice) ?? throw new InvalidOperationException("alice is not on this gateway");
        connection.Missed("news", "0123456789ab", 2, 5);

        var disconnected = await clients.WaitForAsync("alice", "$disconnect");
        Assert.Equal("transport close", disconnected[0].GetString());
        await Eventually.True(() => clients.Received("alice", "$connect").Count > 1, "alice to reconnect");
        var back = clients.Received("alice", "$connect")[1][0];

        // Here history holds all she got (the gap was only announced), so she recovers, in her room.
        Assert.Equal(alice, back.GetProperty("id").GetString());
        Assert.True(back.GetProperty("recovered").GetBoolean());
        await io.Of("/").To("news").EmitAsync("headline", "two").Within("the second headline");
        await clients.WaitForAsync("alice", "headline", a => a[0].GetString() == "two");
        await clients.WaitForAsync("bob", "headline", a => a[0].GetString() == "two");
        Assert.Empty(clients.Received("bob", "$disconnect"));
        Assert.Single(clients.Received("bob", "$connect"));
    }
}
