namespace Realtime.Grains;

/// <summary>The grain storage the realtime grains keep their little durable state in: the hubs' gateway registries.</summary>
public static class RealtimeStorage
{
    /// <summary>The name of the grain storage provider; the host configures it (Redis in a cluster, memory embedded).</summary>
    public const string Name = "realtime";

    /// <summary>
    /// Orleans' grain storage for stream subscriptions (its pub-sub). In a cluster it must outlive any silo (Redis):
    /// kept in a silo's memory, the subscriptions of the streams whose pub-sub lived there are lost with it, silently.
    /// </summary>
    public const string PubSubStore = "PubSubStore";
}
