namespace Realtime.Grains;

/// <summary>The grain storage the realtime grains' silos need. The grains themselves keep no durable state.</summary>
public static class RealtimeStorage
{
    /// <summary>
    /// Orleans' grain storage for stream subscriptions (its pub-sub). In a cluster it must outlive any silo (Redis):
    /// kept in a silo's memory, the subscriptions of the streams whose pub-sub lived there are lost with it, silently.
    /// </summary>
    public const string PubSubStore = "PubSubStore";
}
