using Realtime.Grains.Internal;

namespace Realtime.Grains.Rooms;

/// <summary>
/// One room. All of its messages pass through this activation, which stamps them with the next sequence number, so
/// every member sees them in the same order. It stays active while it has members.
/// </summary>
public sealed class RoomGrain() : MemberGroupGrain(DeliveryTarget.Room), IRoomGrain
{
    public Task<int> Join(Member member, IGatewayObserver gateway) => AddMember(member, gateway);

    public Task<int> Leave(string gatewayId, string connectionId) => RemoveMember(gatewayId, connectionId);

    public Task<long> Publish(SerializedPayload payload, IReadOnlyList<string>? except) => PublishToMembers(payload, except);

    public Task<IReadOnlyList<Member>> Members() => ListMembers();

    public Task<int> Close()
    {
        var count = MemberTable.Count;
        foreach (var gateway in MemberTable.Gateways())
        {
            _ = gateway.RoomClosed(Hub, GetPrimaryKeyString());
        }

        MemberTable.Clear();
        KeepAlive = false;
        DeactivateOnIdle();
        return Task.FromResult(count);
    }
}
