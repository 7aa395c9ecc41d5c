using Microsoft.Extensions.Diagnostics.HealthChecks;
using Realtime.Gateway.Core;

namespace Realtime.Gateway.Hosting;

/// <summary>
/// Whether this gateway is ready for connections: its silo is active in the cluster's membership, its hubs' grains know
/// that it serves them (a send to a whole hub reaches it), and it is not stopping. What a readiness probe asks: the
/// stock gateway answers it at <c>/healthz/ready</c>, an application of its own adds it with
/// <see cref="RealtimeGatewayExtensions.AddRealtimeGateway(IHealthChecksBuilder, string, IEnumerable{string}?)"/>.
/// </summary>
internal sealed class RealtimeGatewayHealthCheck(
    IClusterMembershipService membership, ILocalSiloDetails silo, GatewayReceiver receiver, IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(NotReadyBecause() is { } why ? new HealthCheckResult(context.Registration.FailureStatus, why) : HealthCheckResult.Healthy("ready"));

    /// <summary>Why the gateway is not ready, or null when it is.</summary>
    public string? NotReadyBecause() =>
        lifetime.ApplicationStopping.IsCancellationRequested ? "stopping"
        : membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress) != SiloStatus.Active ? "not active in the cluster"
        : !receiver.HubsRegistered ? "registering with the hubs' grains"
        : null;
}
