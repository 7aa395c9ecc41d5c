using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Gateway.Hubs;
using Realtime.Gateway.Internal;
using Realtime.Grains;
using Realtime.Grains.Hubs;

namespace Realtime.Gateway.Hosting;

/// <summary>
/// Holds this gateway's lease in the registry of every hub it serves (see <see cref="IHubGrain"/>), renewing it every
/// <see cref="GatewayLeaseOptions.RenewPeriod"/> through <see cref="IGatewayLeaseRelayGrain"/>, whatever became of the
/// renewals before: a renewal that hangs on a silo that froze, or behind a link that was cut, does not hold up the
/// next. Each renewal goes two ways at once: through the relay that last carried one, and through the next relay in
/// turn, so that a way that works is kept while any exists, and a new one is found when it stops working.
/// A hub takes connections only once its lease is held, so that grains rebuilding their members know this gateway.
/// Stopping, the gateway leaves the registries, and every grain drops its members at once. A lease that ran out (the
/// gateway was cut off for longer than <see cref="GatewayLeaseOptions.Timeout"/>) means the cluster has forgotten
/// this gateway's connections: it stops.
/// </summary>
internal sealed partial class GatewayLease(
    GatewayReceiver receiver,
    IGrainFactory grains,
    IServiceProvider services,
    IOptions<GatewayLeaseOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<GatewayLease> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, Task> _registrations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _renewed = new(StringComparer.Ordinal);
    /// <summary>How many relay grains renewals rotate over, so that they reach the cluster through different silos.</summary>
    private const int RelayRoutes = 16;

    private readonly GatewayLeaseOptions _options = options.Value;
    private int _stopping;
    private int _route;
    private int _workingRoute = -1;

    /// <summary>True once every hub this gateway serves holds its lease.</summary>
    public bool IsHeld
    {
        get
        {
            var any = false;
            foreach (var hub in receiver.Hubs)
            {
                any = true;
                if (!_registrations.TryGetValue(hub, out var registration) || !registration.IsCompletedSuccessfully)
                {
                    return false;
                }
            }

            return any;
        }
    }

    /// <summary>Completes once the hub holds this gateway's lease; after a failure, the next call tries again.</summary>
    public Task EnsureHeldAsync(string hub)
    {
        var registration = _registrations.GetOrAdd(hub, RenewAsync);
        if (registration.IsFaulted || registration.IsCanceled)
        {
            registration = RenewAsync(hub);
            _registrations[hub] = registration;
        }

        return registration;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The RealtimeHub serves from the start (other hubs register on their first connection).
        _ = services.GetRequiredService<HubLifetimeManager<RealtimeHub>>();
        var started = new TaskCompletionSource();
        using var timer = new PeriodicTimer(_options.RenewPeriod);
        try
        {
            using (lifetime.ApplicationStarted.Register(started.SetResult))
            {
                await started.Task.WaitAsync(stoppingToken);
            }

            do
            {
                foreach (var hub in receiver.Hubs)
                {
                    _ = RenewOnceAsync(hub);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var hub in receiver.Hubs)
        {
            try
            {
                await grains.GetGrain<IHubGrain>(hub).Leave(receiver.GatewayId).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            }
            catch (Exception ex)
            {
                // Its lease runs out instead.
                LeaveFailed(logger, hub, ex);
            }
        }
    }

    private async Task RenewOnceAsync(string hub)
    {
        var renewal = RenewAsync(hub);
        try
        {
            await renewal.WaitAsync(_options.Timeout);
            _registrations[hub] = renewal;
            _renewed[hub] = DateTimeOffset.UtcNow;
        }
        catch (LeaseExpiredException)
        {
            if (Interlocked.Exchange(ref _stopping, 1) == 0)
            {
                LeaseLost(logger, receiver.GatewayId, hub);
                Environment.ExitCode = 1;
                lifetime.StopApplication();
            }
        }
        catch (Exception ex)
        {
            // The lease outlasts a few failed renewals; say so when it is at risk.
            if (DateTimeOffset.UtcNow - _renewed.GetValueOrDefault(hub, DateTimeOffset.UtcNow) >= _options.Timeout / 2)
            {
                RenewFailed(logger, hub, ex);
            }
        }
    }

    private async Task RenewAsync(string hub)
    {
        // Relays, because an Orleans client sends all calls to one grain over the same silo connection, and a silo that
        // froze, or whose link to this gateway was cut, keeps that connection open until it is declared dead.
        var next = (Interlocked.Increment(ref _route) & int.MaxValue) % RelayRoutes;
        var working = Volatile.Read(ref _workingRoute);
        if (working < 0 || working == next)
        {
            await RenewThroughAsync(hub, next);
            return;
        }

        // Renewed when either renewal is; a lease that ran out says so at once.
        List<Task> pending = [RenewThroughAsync(hub, working), RenewThroughAsync(hub, next)];
        while (true)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            if (done.IsCompletedSuccessfully)
            {
                foreach (var other in pending)
                {
                    _ = other.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
                }

                return;
            }

            if (pending.Count == 0 || done.Exception?.InnerException is LeaseExpiredException)
            {
                await done;
            }
        }
    }

    private async Task RenewThroughAsync(string hub, int route)
    {
        var status = await grains.GetGrain<IGatewayLeaseRelayGrain>(route).RenewLease(hub, receiver.Registration);
        if (status == LeaseStatus.Expired)
        {
            throw new LeaseExpiredException();
        }

        Volatile.Write(ref _workingRoute, route);
    }

    private sealed class LeaseExpiredException() : Exception("The gateway's lease ran out.");

    [LoggerMessage(30, LogLevel.Warning, "Renewing this gateway's lease on hub {Hub} failed; its members are dropped if it stays unrenewed for Cluster:GatewayLease:Timeout.")]
    private static partial void RenewFailed(ILogger logger, string hub, Exception exception);

    [LoggerMessage(31, LogLevel.Critical, "The lease of gateway {GatewayId} on hub {Hub} ran out and the cluster dropped its connections; the gateway stops.")]
    private static partial void LeaseLost(ILogger logger, string gatewayId, string hub);

    [LoggerMessage(32, LogLevel.Warning, "Leaving hub {Hub} failed; the gateway's lease runs out instead.")]
    private static partial void LeaveFailed(ILogger logger, string hub, Exception exception);
}
