namespace Realtime.Contracts;

/// <summary>Which failures mean that the cluster could not complete a call right now (as opposed to bad input).</summary>
public static class ClusterFailure
{
    /// <summary>
    /// True for Orleans' failures (a silo unavailable or just declared dead, a rejected message, a grain that could
    /// not rebuild its members, no gateway reachable) and for calls that timed out.
    /// </summary>
    public static bool Is(Exception exception) => exception is OrleansException or TimeoutException;
}
