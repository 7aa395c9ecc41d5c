namespace Realtime.Contracts;

/// <summary>
/// The Orleans streams of the realtime cluster: their provider's name, their stream namespaces and keys. Any Orleans
/// client or grain of the cluster can publish or subscribe with these.
/// </summary>
public static class RealtimeStreams
{
    /// <summary>The name of the stream provider silos and clients register (memory streams unless configured otherwise).</summary>
    public const string ProviderName = "realtime";

    /// <summary>The stream namespace of server-to-server events; the key is the hub (<see cref="ServerEventsOf"/>).</summary>
    public const string ServerEvents = "realtime.server-events";

    /// <summary>
    /// The stream namespace of the events clients send to rooms and namespaces; the key is the namespace's grain key
    /// (<see cref="ClientEventsOf"/>). Only namespaces listed in <c>Streams:ClientEvents:Namespaces</c> have one.
    /// </summary>
    public const string ClientEvents = "realtime.client-events";

    /// <summary>The server-to-server events of a hub.</summary>
    public static StreamId ServerEventsOf(string hub) => StreamId.Create(ServerEvents, hub);

    /// <summary>The events clients send to the rooms and to the whole of a namespace of a hub (<c>/</c> or <c>/name</c>).</summary>
    public static StreamId ClientEventsOf(string hub, string @namespace) => StreamId.Create(ClientEvents, GrainKeys.Namespace(hub, @namespace));
}
