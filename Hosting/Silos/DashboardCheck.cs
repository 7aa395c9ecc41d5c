using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Realtime.Contracts.Hosting;

namespace Realtime.Hosting.Silos;

/// <summary>
/// The Orleans Dashboard works only when every silo runs its services: its page asks each silo for its figures, and a
/// silo without them answers none (it logs <c>unknown SystemTarget ... ISiloGrainService</c>, and the page stays empty).
/// Each silo says in its metadata whether it runs them (<c>Cluster:Dashboard</c>), and each silo that does checks the
/// others every few seconds, logging an error, once per silo, for one that does not. Nothing is refused: during a
/// rolling update that turns the dashboard on, the nodes differ for a while.
/// </summary>
internal sealed partial class DashboardCheck(
    IOptions<RealtimeClusterOptions> options, IClusterMembershipService membership, ISiloMetadataCache metadata, ILocalSiloDetails self, ILogger<DashboardCheck> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>The silo metadata key that says whether a silo runs the dashboard's services: <c>on</c> or <c>off</c>.</summary>
    public const string MetadataKey = "realtime.dashboard";

    private static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<SiloAddress, bool> _reported = new();
    private readonly CancellationTokenSource _stopping = new();

    public void Participate(ISiloLifecycle lifecycle)
    {
        if (options.Value.Dashboard)
        {
            lifecycle.Subscribe(nameof(DashboardCheck), ServiceLifecycleStage.Active, Start, Stop);
        }
    }

    private Task Start(CancellationToken cancellationToken)
    {
        _ = RunAsync();
        return Task.CompletedTask;
    }

    private Task Stop(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    private async Task RunAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                CheckOnce();
                await Task.Delay(Period, _stopping.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>Reports each active silo that says it runs without the dashboard; a silo whose metadata is not known yet is looked at next time.</summary>
    internal void CheckOnce()
    {
        foreach (var (address, member) in membership.CurrentSnapshot.Members)
        {
            if (member.Status != SiloStatus.Active || address.Equals(self.SiloAddress))
            {
                continue;
            }

            if (metadata.GetSiloMetadata(address).Metadata.TryGetValue(MetadataKey, out var dashboard) && dashboard != "on" && _reported.TryAdd(address, true))
            {
                LogWithoutDashboard(logger, member.Name, address);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Silo {Name} ({Address}) runs without the Orleans Dashboard's services while this one has Cluster:Dashboard on: the dashboard shows nothing of it. Set Cluster:Dashboard alike on every silo and gateway.")]
    private static partial void LogWithoutDashboard(ILogger logger, string name, SiloAddress address);
}
