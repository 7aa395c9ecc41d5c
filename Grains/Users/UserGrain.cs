using Realtime.Grains.Internal;

namespace Realtime.Grains.Users;

/// <summary>One user: the user's connections on every gateway, so a send to the user reaches each of them once.</summary>
public sealed class UserGrain() : MemberGroupGrain(DeliveryTarget.User), IUserGrain
{
    public Task<int> Connect(Member member, IGatewayObserver gateway) => AddMember(member, gateway);

    public Task<int> Disconnect(string gatewayId, string connectionId) => RemoveMember(gatewayId, connectionId);

    public Task<long> Publish(SerializedPayload payload, IReadOnlyList<string>? except) => PublishToMembers(payload, except);

    public Task<IReadOnlyList<Member>> Connections() => ListMembers();
}
