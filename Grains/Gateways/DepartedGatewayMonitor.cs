using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;

namespace Realtime.Grains.Gateways;

/// <summary>
/// Runs on every silo while it is active: whenever Orleans' membership changes, and every
/// <see cref="RealtimeClusterOptions.DepartureCheckPeriod"/> besides, it tells the activations here that hold state for
/// a gateway whose silo is stopping or was declared dead (<see cref="GatewayDirectory.IsGone"/>) to drop it. A gateway
/// is a silo, so it departs when the cluster says so: there is no lease of our own.
/// </summary>
internal sealed partial class DepartedGatewayMonitor(
    GatewayDependents dependents,
    GatewayDirectory gateways,
    IClusterMembershipService membership,
    IGrainFactory grains,
    IOptions<RealtimeClusterOptions> options,
    TimeProvider time,
    ILogger<DepartedGatewayMonitor> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _checking = new(1, 1);
    private Task _loops = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DepartedGatewayMonitor), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _loops = Task.WhenAll(Task.Run(FollowMembershipAsync, CancellationToken.None), Task.Run(CheckPeriodicallyAsync, CancellationToken.None));
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loops.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task FollowMembershipAsync()
    {
        try
        {
            await foreach (var _ in membership.MembershipUpdates.WithCancellation(_stopping.Token))
            {
                await CheckAsync();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Also catches state recorded after its gateway's departure was seen (a join from it that was on its way).</summary>
    private async Task CheckPeriodicallyAsync()
    {
        using var timer = new PeriodicTimer(options.Value.DepartureCheckPeriod, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                await CheckAsync();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task CheckAsync()
    {
        await _checking.WaitAsync(_stopping.Token);
        try
        {
            var now = time.GetUtcNow();
            foreach (var hub in dependents.Hubs)
            {
                foreach (var (gatewayId, since) in dependents.Gateways(hub))
                {
                    if (!gateways.IsGone(gatewayId, since, now))
                    {
                        continue;
                    }

                    var grainIds = dependents.Take(hub, gatewayId);
                    if (grainIds.Length == 0)
                    {
                        continue;
                    }

                    GatewayDeparted(logger, gatewayId, hub, grainIds.Length);
                    IReadOnlyList<string> gone = [gatewayId];
                    foreach (var grainId in grainIds)
                    {
                        _ = TellAsync(hub, gone, grainId);
                    }
                }
            }
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            CheckFailed(logger, ex);
        }
        finally
        {
            _checking.Release();
        }
    }

    private async Task TellAsync(string hub, IReadOnlyList<string> gatewayIds, GrainId grainId)
    {
        try
        {
            await grains.GetGrain<IGatewayDependentGrain>(grainId).GatewaysDeparted(gatewayIds);
        }
        catch (Exception ex)
        {
            // Still holding the members: the next check tells it again.
            TellFailed(logger, grainId, ex);
            dependents.Add(hub, gatewayIds[0], grainId);
        }
    }

    [LoggerMessage(101, LogLevel.Information, "Gateway {GatewayId} left the cluster: {Count} activation(s) of hub {Hub} on this silo drop its members.")]
    private static partial void GatewayDeparted(ILogger logger, string gatewayId, string hub, int count);

    [LoggerMessage(102, LogLevel.Warning, "Looking for departed gateways failed; trying again at the next check.")]
    private static partial void CheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(103, LogLevel.Warning, "Telling {Grain} that a gateway departed failed.")]
    private static partial void TellFailed(ILogger logger, GrainId grain, Exception exception);
}
