using Realtime.Grains.Internal;

namespace Realtime.Grains.Namespaces;

/// <summary>One namespace: its connections by gateway, and broadcast to them in one order.</summary>
public sealed class NamespaceGrain() : MemberGroupGrain(DeliveryTarget.Namespace), INamespaceGrain
{
    public Task<int> Connect(Member member, IGatewayObserver gateway) => AddMember(member, gateway);

    public Task<int> Disconnect(string gatewayId, string connectionId) => RemoveMember(gatewayId, connectionId);

    public Task<long> Publish(SerializedPayload payload, IReadOnlyList<string>? except) => PublishToMembers(payload, except);

    public Task<long> PublishFiltered(SerializedPayload payload, RoomFilter rooms, IReadOnlyList<string>? except) => PublishToMembers(payload, except, rooms);

    public Task<IReadOnlyList<Member>> Members() => ListMembers();
}
