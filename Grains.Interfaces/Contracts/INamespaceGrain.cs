using Realtime.Runtime;

namespace Realtime.Grains;

/// <summary>A namespace of a hub (key from <see cref="GrainKeys.Namespace"/>): its connections by gateway, and broadcast to them.</summary>
[GrainType("namespace")]
public interface INamespaceGrain : IGatewayMembers
{
    /// <summary>Registers a connection; returns the connection count.</summary>
    Task<int> Connect(Member member, IGatewayObserver gateway);

    /// <summary>Removes a connection; returns the connection count.</summary>
    Task<int> Disconnect(string gatewayId, string connectionId);

    /// <summary>Sends the payload to every connection except <paramref name="except"/>; returns its sequence number.</summary>
    Task<long> Publish(SerializedPayload payload, IReadOnlyList<string>? except);

    /// <summary>
    /// Sends the payload to the connections that <paramref name="rooms"/> selects, except <paramref name="except"/>:
    /// one delivery to each gateway with connections in the namespace, which applies the filter to its own; returns
    /// its sequence number.
    /// </summary>
    Task<long> PublishFiltered(SerializedPayload payload, RoomFilter rooms, IReadOnlyList<string>? except);

    /// <summary>The connections, on every gateway.</summary>
    Task<IReadOnlyList<Member>> Members();
}
