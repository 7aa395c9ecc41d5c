using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Grains.Hubs;

namespace Realtime.Grains.Internal;

/// <summary>
/// Runs on every silo while it is active: every <see cref="GatewayLeaseOptions.CheckPeriod"/> it reads the registry of
/// each hub that activations here depend on, and tells the activations that hold state for a departed gateway (left,
/// or its lease ran out) to drop it. A gateway the registry does not know at all, for longer than a lease, counts as
/// departed too.
/// </summary>
internal sealed partial class DepartedGatewayMonitor(
    GatewayDependents dependents,
    IGrainFactory grains,
    IOptions<GatewayLeaseOptions> options,
    TimeProvider time,
    ILogger<DepartedGatewayMonitor> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DepartedGatewayMonitor), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(options.Value.CheckPeriod, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                foreach (var hub in dependents.Hubs)
                {
                    try
                    {
                        await CheckAsync(hub);
                    }
                    catch (Exception ex) when (!_stopping.IsCancellationRequested)
                    {
                        CheckFailed(logger, hub, ex);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task CheckAsync(string hub)
    {
        var view = await grains.GetGrain<IHubGrain>(hub).Gateways().WaitAsync(options.Value.RebuildTimeout, _stopping.Token);
        var unknownAfter = time.GetUtcNow() - options.Value.Timeout;
        foreach (var (gatewayId, since) in dependents.Gateways(hub).ToList())
        {
            var departed = view.Departed.Contains(gatewayId);
            if (!departed && (since > unknownAfter || IsLive(view, gatewayId)))
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

    private static bool IsLive(GatewayView view, string gatewayId)
    {
        foreach (var gateway in view.Live)
        {
            if (gateway.GatewayId == gatewayId)
            {
                return true;
            }
        }

        return false;
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

    [LoggerMessage(101, LogLevel.Information, "Gateway {GatewayId} of hub {Hub} departed: {Count} activation(s) on this silo drop its members.")]
    private static partial void GatewayDeparted(ILogger logger, string gatewayId, string hub, int count);

    [LoggerMessage(102, LogLevel.Warning, "Reading the gateways of hub {Hub} failed; trying again at the next check.")]
    private static partial void CheckFailed(ILogger logger, string hub, Exception exception);

    [LoggerMessage(103, LogLevel.Warning, "Telling {Grain} that a gateway departed failed.")]
    private static partial void TellFailed(ILogger logger, GrainId grain, Exception exception);
}
