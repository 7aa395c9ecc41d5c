using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;

namespace Realtime.Grains.Gateways;

/// <summary>
/// When this silo stops gracefully (SIGTERM, a rolling update), moves its rooms, namespaces and users to the other
/// silos before Orleans deactivates them: each migrates whole, with its members, numbering and history, so that their
/// clients notice nothing, and a resume from before the stop still finds their history. Without it they would come back
/// elsewhere at their next call, empty of history, as after a crash.
/// </summary>
internal sealed partial class GracefulHandover(
    GatewayDependents dependents,
    IClusterMembershipService membership,
    ILocalSiloDetails self,
    IGrainFactory grains,
    IOptions<RealtimeClusterOptions> options,
    ILogger<GracefulHandover> logger,
    ISiloMetadataCache? metadata = null) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>The grain types that move: rooms, namespaces and users (<see cref="Groups.MemberGroupGrain"/>).</summary>
    private static readonly HashSet<string> MovableTypes = ["room", "namespace", "user"];

    /// <summary>How long the hand-over may hold the stop up.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(GracefulHandover), ServiceLifecycleStage.Active, _ => Task.CompletedTask, StopAsync);

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            // Not a graceful stop: nothing waits for a hand-over.
            return;
        }

        // Sessions and hubs stay (they are immovable): they come back elsewhere at their next call.
        var groups = dependents.All().Where(g => MovableTypes.Contains(g.Type.ToString())).ToList();
        var targets = Targets();
        if (groups.Count == 0 || targets.Count == 0)
        {
            return;
        }

        var moves = new List<Task>(groups.Count);
        var next = 0;
        foreach (var group in groups)
        {
            moves.Add(grains.GetGrain<IMemberGroupGrain>(group).MoveTo(targets[next++ % targets.Count]));
        }

        try
        {
            await Task.WhenAll(moves).WaitAsync(Timeout, cancellationToken);
            HandedOver(logger, groups.Count, targets.Count);
        }
        catch (Exception ex)
        {
            // What did not move deactivates with the silo and comes back elsewhere at its next call.
            HandoverFailed(logger, moves.Count(m => !m.IsCompletedSuccessfully), groups.Count, ex);
        }
    }

    /// <summary>The other active silos that the placement allows, or every other active silo when none of them does.</summary>
    private IReadOnlyList<SiloAddress> Targets()
    {
        var others = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active && !m.SiloAddress.Equals(self.SiloAddress))
            .Select(m => m.SiloAddress)
            .ToList();
        return RolePlacementDirector.Allowed(options.Value.GrainPlacement, metadata, others);
    }

    [LoggerMessage(131, LogLevel.Information, "Stopping: {Groups} room(s), namespace(s) and user(s) moved to {Silos} other silo(s).")]
    private static partial void HandedOver(ILogger logger, int groups, int silos);

    [LoggerMessage(132, LogLevel.Warning, "Stopping: {Pending} of {Groups} group(s) did not move in time; they come back elsewhere at their next call, without their history.")]
    private static partial void HandoverFailed(ILogger logger, int pending, int groups, Exception exception);
}
