using Orleans.Configuration;

namespace Realtime.Hosting.Silos;

/// <summary>
/// The membership timings a realtime cluster ships with, in place of Orleans' defaults (5 s probes, 3 missed, votes
/// suppressed while a connection carried a message within 60 s), which take 10 s or more to declare a dead node dead.
/// Measured on two cores under saturation before they were chosen: docs/architecture.md, "Failure detection".
/// </summary>
internal static class FailureDetection
{
    public static void Apply(ClusterMembershipOptions options)
    {
        options.ProbeTimeout = TimeSpan.FromSeconds(1);
        options.MaxProbeTimeout = TimeSpan.FromSeconds(2);
        options.NumMissedProbesLimit = 2;

        // Gossip spreads changes at once; the table is read besides, and that read is also how a silo that was frozen
        // learns, when it thaws, that it was declared dead and must stop.
        options.TableRefreshTimeout = TimeSpan.FromSeconds(5);
    }

    /// <summary>
    /// How long the distributed directory holds a dead silo's grains back, counted from when the silo was probably
    /// last alive: no longer than failure detection takes, so that nothing waits once the silo is declared dead.
    /// </summary>
    public static TimeSpan RangeLease(ClusterMembershipOptions membership) => membership.MaxProbeTimeout * membership.NumMissedProbesLimit;
}
