namespace Realtime.Tests.Infrastructure;

/// <summary>Checks the promise of a room: every member sees its messages in one order.</summary>
public static class RoomOrder
{
    /// <summary>
    /// The first two <paramref name="members"/> each fire <paramref name="perSender"/> sends at the room without
    /// waiting (SignalR <c>send</c>, which the gateway pipelines), then leave it. The other members must hold all of
    /// them in one order, each sender's in the order it sent; and a sender must get every message of its own even though
    /// it left the room right after: the leave waited for the sends before it (a message the room handled after the
    /// leave would not reach the sender). The client may still be handing the last ones to its handlers when the
    /// leave's result arrives, so the test waits for them.
    /// </summary>
    public static async Task AssertPipelinedOrderAsync(IReadOnlyList<SignalRTestClient> members, string room, int perSender)
    {
        await Task.WhenAll(members.Take(2).Select((sender, s) => Task.Run(async () =>
        {
            for (var n = 0; n < perSender; n++)
            {
                await sender.SendAsync("SendToRoom", room, "seq", $"{s}:{n}");
            }

            await sender.InvokeAsync("Leave", room);
            var own = await sender.WaitForAsync("event", e => e.Arguments[0].GetProperty("data").GetString()!.StartsWith($"{s}:", StringComparison.Ordinal), perSender);
            Assert.Equal(Enumerable.Range(0, perSender).Select(n => $"{s}:{n}"), own.Select(e => e.Arguments[0].GetProperty("data").GetString()));
        }))).Within($"{2 * perSender} pipelined sends and the senders' leaves");

        await AssertAllReceivedInOneOrderAsync(members.Skip(2), perSender);
    }

    /// <summary>
    /// Each of <paramref name="receivers"/> must hold the two senders' <paramref name="perSender"/> messages each, all
    /// of them in the same order, each sender's in the order it sent.
    /// </summary>
    private static async Task AssertAllReceivedInOneOrderAsync(IEnumerable<SignalRTestClient> receivers, int perSender)
    {
        var orders = new List<string[]>();
        foreach (var member in receivers)
        {
            var received = await member.WaitForAsync("event", count: 2 * perSender);
            orders.Add(received.Select(r => r.Arguments[0].GetProperty("data").GetString()!).ToArray());
        }

        Assert.All(orders, order => Assert.Equal(orders[0], order));
        Assert.Equal(2 * perSender, orders[0].Distinct().Count());
        for (var s = 0; s < 2; s++)
        {
            var mine = orders[0].Where(d => d.StartsWith($"{s}:", StringComparison.Ordinal)).Select(d => int.Parse(d[2..], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(Enumerable.Range(0, perSender), mine);
        }
    }
}
