using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Hosting;
using Realtime.Gateway.Hubs;
using Realtime.Gateway.LifetimeManager;

namespace Realtime.Gateway.Hosting;

/// <summary>
/// Registers the gateway with the RealtimeHub's hub grain once the host has started, retrying until a silo answers,
/// so that it receives sends to the whole hub and server-to-server events before its first connection.
/// </summary>
internal sealed class GatewayRegistration(HubLifetimeManager<RealtimeHub> lifetimeManager, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (lifetimeManager is not RealtimeHubLifetimeManager<RealtimeHub> realtime)
        {
            return;
        }

        var started = new TaskCompletionSource();
        using var registration = lifetime.ApplicationStarted.Register(started.SetResult);
        await started.Task.WaitAsync(stoppingToken);
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await realtime.RegisterGatewayAsync();
                return;
            }
            catch (Exception ex) when (ex is Runtime.GrainCallException or TimeoutException)
            {
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }
}
