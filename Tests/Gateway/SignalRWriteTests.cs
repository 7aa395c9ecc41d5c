using System.Text.Json;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>
/// What a gateway writes to a SignalR connection while a room bursts: the messages waiting for a connection leave in
/// few writes (several copied together into a pooled buffer, at most 32 KiB each, a larger message alone), and each
/// member, of either protocol, gets every message whole and in order.
/// </summary>
public sealed class SignalRWriteTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private const int Messages = 300;

    // Small ones that share a write, and ones large enough that a write holds only one or two of them.
    private static readonly int[] Sizes = [10, 3_000, 20_000, 40, 40_000];

    [Fact]
    public async Task ABurstToARoom_ReachesEveryMember_WholeAndInOrder_JsonAndMessagePack()
    {
        var gateway = fixture.Gateway;
        var room = GatewayFixture.Unique("burst");
        await using var json = await SignalRTestClient.ConnectAsync(gateway.HubUri(), "json");
        await using var messagePack = await SignalRTestClient.ConnectAsync(gateway.HubUri(), "messagepack", messagePack: true);
        await using var sender = await gateway.ConnectAsync("sender");
        await json.InvokeAsync("Join", room);
        await messagePack.InvokeAsync("Join", room);

        for (var i = 0; i < Messages; i++)
        {
            // Sent without waiting for each: the deliveries pile up for the members' writes.
            await sender.SendAsync("SendToRoom", room, "burst", JsonSerializer.SerializeToElement(new { i, pad = Pad(i) }));
        }

        foreach (var member in new[] { json, messagePack })
        {
            var received = await member.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "burst", count: Messages, timeout: TimeSpan.FromSeconds(60));
            for (var i = 0; i < Messages; i++)
            {
                var data = received[i].Arguments[0].GetProperty("data");
                Assert.Equal(i, data.GetProperty("i").GetInt32());
                Assert.Equal(Pad(i), data.GetProperty("pad").GetString());
            }
        }
    }

    private static string Pad(int i) => string.Create(Sizes[i % Sizes.Length], i, static (span, n) =>
    {
        for (var c = 0; c < span.Length; c++)
        {
            span[c] = (char)('a' + ((n + c) % 26));
        }
    });
}
