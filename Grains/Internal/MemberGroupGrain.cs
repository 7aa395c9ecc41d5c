using Realtime.Runtime;

namespace Realtime.Grains.Internal;

/// <summary>
/// What rooms, namespaces and users share: members grouped by gateway, kept alive while there are any, and a publish
/// that stamps the next sequence number and sends one delivery per gateway. Each grain names these operations in its
/// own contract's words (join or connect, leave or disconnect).
/// </summary>
public abstract class MemberGroupGrain : Grain, IClusterNodeAware
{
    private readonly MemberTable _members = new();
    private readonly DeliveryTarget _target;
    private string _hub = "";
    private long _sequence;

    private protected MemberGroupGrain(DeliveryTarget target) => _target = target;

    private protected MemberTable MemberTable => _members;

    private protected string Hub => _hub;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _hub = KeyParts.Hub(GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    private protected Task<int> AddMember(Member member, IGatewayObserver gateway)
    {
        _members.Add(member, gateway);
        KeepAlive = true;
        return Task.FromResult(_members.Count);
    }

    private protected Task<int> RemoveMember(string gatewayId, string connectionId)
    {
        _members.Remove(gatewayId, connectionId);
        KeepAlive = _members.Count > 0;
        return Task.FromResult(_members.Count);
    }

    private protected Task<long> PublishToMembers(SerializedPayload payload, IReadOnlyList<string>? except, RoomFilter? rooms = null)
    {
        var sequence = ++_sequence;
        _members.Publish(new Delivery(_hub, _target, GetPrimaryKeyString(), sequence, payload, except, rooms));
        return Task.FromResult(sequence);
    }

    private protected Task<IReadOnlyList<Member>> ListMembers() => Task.FromResult(_members.Members());

    public Task<int> MemberCount() => Task.FromResult(_members.Count);

    public Task<int> SyncGateway(string gatewayId, IReadOnlyList<Member> members, IGatewayObserver gateway)
    {
        _members.ReplaceGateway(gatewayId, members, gateway);
        KeepAlive = _members.Count > 0;
        return Task.FromResult(_members.Count);
    }

    /// <summary>A gateway that left or died takes its members with it, on every grain that had any.</summary>
    public Task OnNodesDeparted(IReadOnlyList<string> nodes)
    {
        foreach (var node in nodes)
        {
            _members.RemoveGateway(node);
        }

        KeepAlive = _members.Count > 0;
        return Task.CompletedTask;
    }
}
