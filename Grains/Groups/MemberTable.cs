using Realtime.Contracts;
using Realtime.Grains.Gateways;

namespace Realtime.Grains.Groups;

/// <summary>
/// Connections grouped by the gateway that holds them, with that gateway's service. Publishing walks gateways, not
/// connections: a room of ten thousand members on two gateways costs two deliveries.
/// </summary>
internal sealed class MemberTable
{
    private readonly Dictionary<string, GatewayMembers> _gateways = new(StringComparer.Ordinal);

    // Chains carried from a previous activation (a migration), taken up when their gateway's members come back.
    private Dictionary<string, ChainState>? _carried;

    public int Count { get; private set; }

    /// <summary>The ids of the gateways that hold members.</summary>
    public Dictionary<string, GatewayMembers>.KeyCollection GatewayIds => _gateways.Keys;

    /// <summary>Adds or updates a member; true when its gateway had no members before.</summary>
    public bool Add(Member member, GatewayDirectory gateways)
    {
        var added = false;
        if (!_gateways.TryGetValue(member.GatewayId, out var members))
        {
            ChainState? carried = null;
            _carried?.Remove(member.GatewayId, out carried);
            members = new GatewayMembers(new DeliveryChain(gateways, member.GatewayId, carried));
            _gateways.Add(member.GatewayId, members);
            added = true;
        }

        if (members.Connections.TryAdd(member.ConnectionId, member))
        {
            Count++;
        }
        else
        {
            members.Connections[member.ConnectionId] = member;
        }

        return added;
    }

    /// <summary>
    /// Removes a member; returns its gateway's chain (null when the gateway has no members here), and whether the
    /// member was the gateway's last.
    /// </summary>
    public (DeliveryChain? Chain, bool WasLast) Remove(string gatewayId, string connectionId)
    {
        if (!_gateways.TryGetValue(gatewayId, out var members))
        {
            return (null, false);
        }

        if (members.Connections.Remove(connectionId))
        {
            Count--;
            if (members.Connections.Count == 0)
            {
                _gateways.Remove(gatewayId);
                return (members.Chain, true);
            }
        }

        return (members.Chain, false);
    }

    /// <summary>Removes every member of a gateway; true when it had any.</summary>
    public bool RemoveGateway(string gatewayId)
    {
        if (_gateways.Remove(gatewayId, out var members))
        {
            Count -= members.Connections.Count;
            return true;
        }

        return false;
    }

    /// <summary>Sends the delivery to every gateway with members, each as the next of its chain.</summary>
    public void Publish(Delivery delivery)
    {
        foreach (var (_, members) in _gateways)
        {
            members.Chain.Send(delivery);
        }
    }

    /// <summary>
    /// Sends the delivery to every gateway with members, each as the next of its chain; each task completes once its
    /// gateway took it (see <see cref="DeliveryChain.SendConfirmed"/>).
    /// </summary>
    public List<Task> PublishConfirmed(Delivery delivery, TimeSpan verdictWithin)
    {
        var confirmations = new List<Task>(_gateways.Count);
        foreach (var (_, members) in _gateways)
        {
            confirmations.Add(members.Chain.SendConfirmed(delivery, verdictWithin));
        }

        return confirmations;
    }

    /// <summary>Sends the deliveries, in order, to every gateway with members, each gateway's in one call where it can.</summary>
    public void PublishAll(IReadOnlyList<Delivery> deliveries)
    {
        foreach (var (_, members) in _gateways)
        {
            members.Chain.SendAll(deliveries);
        }
    }

    /// <summary>Sends the delivery to one gateway, as the next of its chain; false when the gateway has no members here.</summary>
    public bool SendTo(string gatewayId, Delivery delivery)
    {
        if (!_gateways.TryGetValue(gatewayId, out var members))
        {
            return false;
        }

        members.Chain.Send(delivery);
        return true;
    }

    /// <summary>Each gateway with members: its id, its service, and the ids of its members now.</summary>
    public List<(string GatewayId, IGatewayService Gateway, string[] ConnectionIds)> ByGateway()
    {
        var all = new List<(string, IGatewayService, string[])>(_gateways.Count);
        foreach (var (gatewayId, members) in _gateways)
        {
            all.Add((gatewayId, members.Chain.Gateway, [.. members.Connections.Keys]));
        }

        return all;
    }

    public IReadOnlyList<Member> Members()
    {
        var all = new List<Member>(Count);
        foreach (var (_, members) in _gateways)
        {
            all.AddRange(members.Connections.Values);
        }

        return all;
    }

    /// <summary>Each gateway's chain, to carry to another activation.</summary>
    public Dictionary<string, ChainState> Chains()
    {
        var chains = new Dictionary<string, ChainState>(_gateways.Count, StringComparer.Ordinal);
        foreach (var (gatewayId, members) in _gateways)
        {
            chains[gatewayId] = members.Chain.State;
        }

        return chains;
    }

    /// <summary>
    /// Goes on with another activation's chains: a gateway's next delivery continues its chain, so that the gateway
    /// keeps the group's order across the move.
    /// </summary>
    public void Carry(Dictionary<string, ChainState> chains) => _carried = new(chains, StringComparer.Ordinal);

    public void Clear()
    {
        _gateways.Clear();
        Count = 0;
    }

    internal sealed class GatewayMembers(DeliveryChain chain)
    {
        public DeliveryChain Chain { get; } = chain;

        public Dictionary<string, Member> Connections { get; } = new(StringComparer.Ordinal);
    }
}
