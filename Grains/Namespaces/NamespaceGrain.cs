using Realtime.Grains.Internal;
using Realtime.Runtime;

namespace Realtime.Grains.Namespaces;

/// <summary>One namespace: its connections by gateway, and broadcast to them in one order.</summary>
public sealed class NamespaceGrain : Grain, INamespaceGrain
{
    private readonly MemberTable _members = new();
    private string _hub = "";
    private long _sequence;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _hub = KeyParts.Hub(GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public Task<int> Connect(Member member, IGatewayObserver gateway)
    {
        _members.Add(member, gateway);
        KeepAlive = true;
        return Task.FromResult(_members.Count);
    }

    public Task<int> Disconnect(string gatewayId, string connectionId)
    {
        _members.Remove(gatewayId, connectionId);
        KeepAlive = _members.Count > 0;
        return Task.FromResult(_members.Count);
    }

    public Task<long> Publish(SerializedPayload payload, IReadOnlyList<string>? except)
    {
        var sequence = ++_sequence;
        _members.Publish(new Delivery(_hub, DeliveryTarget.Namespace, GetPrimaryKeyString(), sequence, payload, except));
        return Task.FromResult(sequence);
    }

    public Task<IReadOnlyList<Member>> Members() => Task.FromResult(_members.Members());
}
