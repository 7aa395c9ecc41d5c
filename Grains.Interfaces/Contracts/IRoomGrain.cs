using Realtime.Runtime;

namespace Realtime.Grains;

/// <summary>
/// A room of a namespace (key from <see cref="GrainKeys.Room"/>). It keeps its members by gateway and sends each
/// message once to every gateway that holds members, stamped with the room's next sequence number.
/// </summary>
[GrainType("room")]
public interface IRoomGrain : IGatewayMembers
{
    /// <summary>Adds a member; returns the member count.</summary>
    Task<int> Join(Member member, IGatewayObserver gateway);

    /// <summary>Removes a member; returns the member count.</summary>
    Task<int> Leave(string gatewayId, string connectionId);

    /// <summary>Sends the payload to every member except <paramref name="except"/>; returns its sequence number.</summary>
    Task<long> Publish(SerializedPayload payload, IReadOnlyList<string>? except);

    /// <summary>Removes every member, on every gateway, and tells them; returns how many there were.</summary>
    Task<int> Close();

    /// <summary>The members, on every gateway.</summary>
    Task<IReadOnlyList<Member>> Members();
}
