namespace Realtime.Grains.Internal;

/// <summary>
/// Connections grouped by the gateway that holds them, with that gateway's observer. Publishing walks gateways, not
/// connections: a room of ten thousand members on two gateways costs two deliveries.
/// </summary>
internal sealed class MemberTable
{
    private readonly Dictionary<string, GatewayMembers> _gateways = new(StringComparer.Ordinal);

    public int Count { get; private set; }

    public void Add(Member member, IGatewayObserver gateway)
    {
        if (!_gateways.TryGetValue(member.GatewayId, out var members))
        {
            members = new GatewayMembers(gateway);
            _gateways.Add(member.GatewayId, members);
        }

        // The latest reference wins: a restarted gateway process keeps its id but not its observer.
        members.Observer = gateway;
        if (members.Connections.TryAdd(member.ConnectionId, member))
        {
            Count++;
        }
        else
        {
            members.Connections[member.ConnectionId] = member;
        }
    }

    public void Remove(string gatewayId, string connectionId)
    {
        if (_gateways.TryGetValue(gatewayId, out var members) && members.Connections.Remove(connectionId))
        {
            Count--;
            if (members.Connections.Count == 0)
            {
                _gateways.Remove(gatewayId);
            }
        }
    }

    /// <summary>Makes <paramref name="members"/> the whole membership of one gateway.</summary>
    public void ReplaceGateway(string gatewayId, IReadOnlyList<Member> members, IGatewayObserver gateway)
    {
        RemoveGateway(gatewayId);
        foreach (var member in members)
        {
            Add(member, gateway);
        }
    }

    public void RemoveGateway(string gatewayId)
    {
        if (_gateways.Remove(gatewayId, out var members))
        {
            Count -= members.Connections.Count;
        }
    }

    public void Publish(Delivery delivery)
    {
        foreach (var members in _gateways.Values)
        {
            _ = members.Observer.Deliver(delivery);
        }
    }

    public IReadOnlyList<Member> Members()
    {
        var all = new List<Member>(Count);
        foreach (var members in _gateways.Values)
        {
            all.AddRange(members.Connections.Values);
        }

        return all;
    }

    public IEnumerable<IGatewayObserver> Gateways() => _gateways.Values.Select(m => m.Observer);

    public void Clear()
    {
        _gateways.Clear();
        Count = 0;
    }

    private sealed class GatewayMembers(IGatewayObserver observer)
    {
        public IGatewayObserver Observer { get; set; } = observer;

        public Dictionary<string, Member> Connections { get; } = new(StringComparer.Ordinal);
    }
}
