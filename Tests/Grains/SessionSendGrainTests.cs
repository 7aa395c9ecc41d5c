using Realtime.Contracts;
using Realtime.Tests.Infrastructure;
using static Realtime.Tests.Grains.SessionRecoveryGrainTests; // Info, Text

namespace Realtime.Tests.Grains;

/// <summary>
/// A send to one connection goes through its session grain, which lives on another node than the connection's gateway
/// and keeps nothing for a gateway to send again: it answers only once the gateway took the message, so that a success
/// cannot die with the session's node. On Orleans' in-process test cluster, with fake gateways.
/// </summary>
public sealed class SessionSendGrainTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>
{
    [Fact]
    public async Task Send_IsAnsweredOnlyOnceTheConnectionsGatewayTookIt_WhileTheSessionGoesOn_InOrder()
    {
        var (a, b) = await fixture.TwoGatewaysAsync();
        var (session, connection, gateway) = await OpenOffItsGatewaysSiloAsync(fixture, a, b);
        Assert.True(await session.Send(Text("first")).Within("a send"));
        await Eventually.True(() => gateway.SequencesOf(DeliveryTarget.Connection, connection).Length == 1, "the gateway to get the first");

        // The gateway is slow to take the next message: the send waits for it, and the session answers other calls.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.HoldMessages = release.Task;
        Task<bool> held, next;
        try
        {
            held = session.Send(Text("held"));
            await gateway.Holding.Task.Within("the message to reach the held gateway");
            next = session.Send(Text("next"));
            Assert.Equal(gateway.GatewayId, (await session.Get().Within("the session while a send waits"))?.Member.GatewayId);
            Assert.False(held.IsCompleted, "the send was answered before the connection's gateway took it");
        }
        finally
        {
            // Released in any case: a held gateway holds its silo's gateway service for other tests too.
            gateway.HoldMessages = null;
            release.SetResult();
        }

        Assert.True(await held.Within("the held send, once taken"));
        Assert.True(await next.Within("the send after it"));
        Assert.Equal(["first", "held", "next"], MemberGroupGrainTests.TextsInChainOrder(gateway, connection));
    }

    [Fact]
    public async Task Send_ThatTheGatewayFails_FailsWhileItsNodeLives_AndIsAnsweredOnceTheNodeIsDeclaredDead()
    {
        await using var cluster = await GrainClusterFixture.StartAsync(silos: 3);
        var (_, b) = await cluster.TwoGatewaysAsync();
        var (session, connection, gateway) = await OpenOffItsGatewaysSiloAsync(cluster, b); // b's silo is not the first: it can be killed

        // b fails its calls and its node stays listed as active: after the wait for a verdict, the send fails.
        b.FailMessages = true;
        await Assert.ThrowsAnyAsync<Exception>(() => session.Send(Text("not taken")).Within("the send", TimeSpan.FromSeconds(30)));

        // b fails again, as a process killed a moment ago would, and then its node dies: the connection is gone with it.
        var sent = session.Send(Text("gone with the gateway"));
        await Eventually.True(() => b.Failures == 2, "b to fail the call");
        await cluster.Cluster.KillSiloAsync(b.Silo);
        Assert.True(await sent.Within("the send", TimeSpan.FromSeconds(30)));
        Assert.Empty(gateway.SequencesOf(DeliveryTarget.Connection, connection));
    }

    /// <summary>
    /// A new connection's session opened on one of <paramref name="candidates"/>, the first whose silo is not the
    /// session's: a session placed on its gateway's own silo hands messages over in its turn, with nothing in flight.
    /// </summary>
    private static async Task<(ISessionGrain Session, string ConnectionId, FakeGateway Gateway)> OpenOffItsGatewaysSiloAsync(
        GrainClusterFixture cluster, params FakeGateway[] candidates)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var connectionId = $"c{Guid.NewGuid():N}"[..20];
            var session = cluster.Client.GetGrain<ISessionGrain>(GrainKeys.Session(candidates[0].Hub, connectionId));
            await session.Open(Info(candidates[0], connectionId)).Within("the open");
            var silo = cluster.SiloOf(session.GetGrainId());
            if (candidates.FirstOrDefault(c => c.Silo != silo) is { } gateway)
            {
                if (gateway != candidates[0])
                {
                    await session.Open(Info(gateway, connectionId)).Within("the open on the other gateway");
                }

                return (session, connectionId, gateway);
            }

            await session.Close(candidates[0].GatewayId, keepForResume: false).Within("the close of a session on its gateway's silo");
        }

        throw new InvalidOperationException("Every session was placed on its gateway's silo.");
    }
}
