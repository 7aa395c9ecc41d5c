using Realtime.Grains.Internal;
using Realtime.Runtime;

namespace Realtime.Grains.Rooms;

/// <summary>
/// One room. All of its messages pass through this activation, which stamps them with the next sequence number, so
/// every member sees them in the same order. It stays active while it has members.
/// </summary>
public sealed class RoomGrain : Grain, IRoomGrain
{
    private readonly MemberTable _members = new();
    private string _hub = "";
    private long _sequence;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _hub = KeyParts.Hub(GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public Task<int> Join(Member member, IGatewayObserver gateway)
    {
        _members.Add(member, gateway);
        KeepAlive = true;
        return Task.FromResult(_members.Count);
    }

    public Task<int> Leave(string gatewayId, string connectionId)
    {
        _members.Remove(gatewayId, connectionId);
        KeepAlive = _members.Count > 0;
        return Task.FromResult(_members.Count);
    }

    public Task<long> Publish(SerializedPayload payload, IReadOnlyList<string>? except)
    {
        var sequence = ++_sequence;
        _members.Publish(new Delivery(_hub, DeliveryTarget.Room, GetPrimaryKeyString(), sequence, payload, except));
        return Task.FromResult(sequence);
    }

    public Task<int> Close()
    {
        var count = _members.Count;
        foreach (var gateway in _members.Gateways())
        {
            _ = gateway.RoomClosed(_hub, GetPrimaryKeyString());
        }

        _members.Clear();
        KeepAlive = false;
        DeactivateOnIdle();
        return Task.FromResult(count);
    }

    public Task<IReadOnlyList<Member>> Members() => Task.FromResult(_members.Members());
}
