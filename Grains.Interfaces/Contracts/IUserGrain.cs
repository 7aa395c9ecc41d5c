using Realtime.Runtime;

namespace Realtime.Grains;

/// <summary>A user of a hub (key from <see cref="GrainKeys.User"/>): the user's connections on every gateway.</summary>
[GrainType("user")]
public interface IUserGrain : IGatewayMembers
{
    Task<int> Connect(Member member, IGatewayObserver gateway);

    Task<int> Disconnect(string gatewayId, string connectionId);

    Task<long> Publish(SerializedPayload payload, IReadOnlyList<string>? except);

    Task<IReadOnlyList<Member>> Connections();
}
