namespace Realtime.Grains;

/// <summary>The grain storage the realtime grains keep their little durable state in: the hubs' gateway registries.</summary>
public static class RealtimeStorage
{
    /// <summary>The name of the grain storage provider; the host configures it (Redis in a cluster, memory embedded).</summary>
    public const string Name = "realtime";
}
