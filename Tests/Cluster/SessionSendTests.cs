using Microsoft.Extensions.DependencyInjection;
using Realtime.Client.Emitting;
using Realtime.Client.Operations;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;
using Xunit.Abstractions;

namespace Realtime.Tests.Cluster;

/// <summary>
/// A send to one connection (a service's emit to it, <c>IHubContext.Clients.Client</c>) goes through the connection's
/// session grain, which lives on another node than the connection's gateway, and nobody keeps it to send again: the
/// session answers only once the gateway took it. Here the way from the session's node to the connection's gateway is
/// cut (each node in a network namespace of its own, packets dropped) while a service sends, and the session's node is
/// killed with the sends in flight.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SessionSendTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SessionsNodeKilledWithSendsInFlightToTheConnectionsGateway_NoSendReportsSuccessWithoutArriving_AndTheConnectionGoesOn()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 0, gateways: 3, isolated: true);
        var far = cluster.Gateways[0];
        await using var member = await cluster.ConnectAsync(far, "member");

        // Its gateway opens the connection's session grain (for a resume ticket), which is placed on another node.
        var connectionId = (await member.InvokeAsync("Session").Within("a resume ticket")).GetProperty("connectionId").GetString()!;
        var host = await cluster.NodeHoldingAsync($"session/RealtimeHub/{connectionId}");
        Assert.NotNull(host);
        Assert.NotEqual(far, host);

        // A service that enters the cluster through the third node.
        using var service = await cluster.OrleansClientThroughAsync(cluster.Gateways.Single(g => g != far && g != host));
        var to = service.Services.GetRequiredService<IRealtimeEmitter>().Connection(connectionId);
        for (var n = 1; n <= 3; n++)
        {
            await to.EmitAsync("n", n).Within("a send before the cut");
        }

        await Eventually.True(() => Numbers(member).Count == 3, "the member to get the sends before the cut");

        TestCluster.Cut(far, host);
        var outcomes = new List<(int N, bool Succeeded)>();
        try
        {
            var during = Enumerable.Range(4, 5).Select(n => (N: n, Sent: to.EmitAsync("n", n))).ToList();

            // The session has them once it answered a question asked after them (one connection carries all to its node).
            Assert.NotNull(await service.Services.GetRequiredService<IRealtimeCluster>().GetConnectionAsync(connectionId).Within("the session, after the sends"));
            host.Kill();
            foreach (var (n, sent) in during)
            {
                try
                {
                    await sent.Within($"send {n} to succeed or fail", TimeSpan.FromSeconds(30));
                    outcomes.Add((n, true));
                }
                catch (Exception ex) when (sent.IsFaulted) // not the wait's own timeout
                {
                    output.WriteLine($"send {n} failed: {ex.GetType().Name}: {ex.Message}");
                    outcomes.Add((n, false));
                }
            }
        }
        finally
        {
            TestCluster.Heal(far);
        }

        // Every send that reported success is the member's (none of these could cross the cut).
        var succeeded = outcomes.Where(o => o.Succeeded).Select(o => o.N).ToList();
        output.WriteLine($"of sends 4 to 8, {succeeded.Count} reported success");
        await Eventually.True(() => succeeded.All(Numbers(member).Contains), $"the member to have every send that reported success ({string.Join(", ", succeeded)})", TimeSpan.FromSeconds(10));

        // The connection goes on: its session comes back elsewhere, from what its gateway knows.
        await Eventually.TrueWhileRecovering(
            async () =>
            {
                await to.EmitAsync("n", 100);
                return true;
            },
            "a send after the session's node died",
            TimeSpan.FromSeconds(30));
        await Eventually.True(() => Numbers(member).Contains(100), "the member to get the send after the death");
        Assert.False(member.Closed.IsCompleted, "the member was disconnected");
    }

    private static List<int> Numbers(SignalRTestClient member) =>
        [.. member.ReceivedOn("event").Where(e => e.Arguments[0].GetProperty("event").GetString() == "n").Select(e => e.Arguments[0].GetProperty("data").GetInt32())];
}
