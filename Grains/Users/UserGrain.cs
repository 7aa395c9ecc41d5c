using Realtime.Grains.Internal;
using Realtime.Runtime;

namespace Realtime.Grains.Users;

/// <summary>One user: the user's connections on every gateway, so a send to the user reaches each of them once.</summary>
public sealed class UserGrain : Grain, IUserGrain
{
    private readonly MemberTable _connections = new();
    private string _hub = "";
    private long _sequence;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _hub = KeyParts.Hub(GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public Task<int> Connect(Member member, IGatewayObserver gateway)
    {
        _connections.Add(member, gateway);
        KeepAlive = true;
        return Task.FromResult(_connections.Count);
    }

    public Task<int> Disconnect(string gatewayId, string connectionId)
    {
        _connections.Remove(gatewayId, connectionId);
        KeepAlive = _connections.Count > 0;
        return Task.FromResult(_connections.Count);
    }

    public Task<long> Publish(SerializedPayload payload, IReadOnlyList<string>? except)
    {
        var sequence = ++_sequence;
        _connections.Publish(new Delivery(_hub, DeliveryTarget.User, GetPrimaryKeyString(), sequence, payload, except));
        return Task.FromResult(sequence);
    }

    public Task<IReadOnlyList<Member>> Connections() => Task.FromResult(_connections.Members());
}
