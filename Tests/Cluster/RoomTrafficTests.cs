using Microsoft.AspNetCore.SignalR.Client;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// SignalR traffic of a room across the two gateways of the shared cluster, beyond what the room spec (Spec/RoomSpec.cs)
/// asks of both protocols: a leave that waits for the pipelined sends before it, and large messages in bursts.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class RoomTrafficTests(SharedCluster shared)
{
    [Fact]
    public Task TwoGateways_PipelinedSends_ArriveInEachSendersOrder_AndALeaveWaitsForThem() =>
        InOneRoomAsync(4, (clients, room) => RoomOrder.AssertPipelinedOrderAsync(clients, room, perSender: 300));

    [Fact]
    public Task TwoGateways_ABurstOfLargeMessages_ArrivesWholeAndInOrder() =>
        InOneRoomAsync(2, async (clients, room) =>
        {
            var messages = Enumerable.Range(0, 40).Select(n => $"{n}:" + new string((char)('a' + (n % 26)), 10_000)).ToArray();

            // Sent without waiting, so the room's deliveries reach the other gateway in bursts bigger than one write.
            foreach (var message in messages)
            {
                await clients[0].SendAsync("SendToRoom", room, "big", message).Within("a send");
            }

            foreach (var client in clients)
            {
                var received = await client.WaitForAsync("event", count: messages.Length);
                Assert.Equal(messages, received.Select(r => r.Arguments[0].GetProperty("data").GetString()));
            }
        });

    /// <summary>Connects <paramref name="count"/> clients over the gateways, makes them join a room of the test's own, and runs <paramref name="test"/>.</summary>
    private async Task InOneRoomAsync(int count, Func<List<SignalRTestClient>, string, Task> test)
    {
        var room = GatewayFixture.Unique("room");
        var clients = await ClusterTests.ConnectAsync(shared.Cluster, count);
        try
        {
            await ClusterTests.JoinAllAsync(clients, room);
            await test(clients, room);
        }
        finally
        {
            await ClusterTests.DisposeAllAsync(clients);
        }
    }
}
