using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Realtime.Gateway.Hosting;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Core;

/// <summary>
/// The gateway's readiness (the stock gateway's <c>/healthz/ready</c>, an application's
/// <c>AddHealthChecks().AddRealtimeGateway()</c>): a load balancer sends it clients only while its silo is active in
/// the cluster and its hubs' grains know it, and stops as soon as it begins to stop.
/// </summary>
public sealed class GatewayReadinessTests
{
    [Fact]
    public async Task Ready_OnlyWhileItsSiloIsActiveAndItsHubsKnowIt_AndNoLongerOnceItStops()
    {
        var cluster = new FakeCluster();
        var membership = new FakeMembership();
        using var stopping = new CancellationTokenSource();
        var check = new RealtimeGatewayHealthCheck(membership, cluster.SiloDetails, cluster.Receiver, new StoppingLifetime(stopping.Token));

        membership.Declare(SiloStatus.Joining, 1);
        Assert.Equal((HealthStatus.Unhealthy, "not active in the cluster"), await CheckAsync(check));

        // Active, but its hub has not registered with the hub's grain yet (the host registers once it has started).
        membership.Declare(SiloStatus.Active, 1);
        Assert.Equal((HealthStatus.Unhealthy, "registering with the hubs' grains"), await CheckAsync(check));

        await cluster.Receiver.EnsureRegisteredAsync(nameof(CoreTestHub)).Within("the hub to register with its grain");
        Assert.Equal((HealthStatus.Healthy, "ready"), await CheckAsync(check));

        stopping.Cancel();
        Assert.Equal((HealthStatus.Unhealthy, "stopping"), await CheckAsync(check));

        membership.Declare(SiloStatus.ShuttingDown, 1);
        Assert.Equal((HealthStatus.Unhealthy, "stopping"), await CheckAsync(check));
    }

    private static async Task<(HealthStatus Status, string? Description)> CheckAsync(RealtimeGatewayHealthCheck check)
    {
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("realtime-gateway", check, HealthStatus.Unhealthy, ["ready"]) };
        var result = await check.CheckHealthAsync(context).Within("the check");
        return (result.Status, result.Description);
    }

    private sealed class StoppingLifetime(CancellationToken stopping) : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => stopping;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }
}
