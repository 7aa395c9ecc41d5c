using System.Collections.Concurrent;

namespace Realtime.Gateway.Core;

/// <summary>
/// The local connections of each group key (room, namespace or user) on this gateway, with the order in which the
/// group's deliveries are applied to them. A group is here while it has local members.
/// </summary>
internal sealed class LocalIndex(Func<string, LocalIndex.MemberSet, DeliveryOrder> orderOf)
{
    private readonly ConcurrentDictionary<string, MemberSet> _groups = new(StringComparer.Ordinal);

    public void Add(string key, LocalConnection connection)
    {
        while (true)
        {
            var members = _groups.GetOrAdd(key, static (key, orderOf) => new MemberSet(key, orderOf), orderOf);
            lock (members)
            {
                // A set dropped as empty by a concurrent Remove is no longer in the index: take a fresh one.
                if (!members.Dropped)
                {
                    members.Connections[connection.ConnectionId] = connection;
                    return;
                }
            }
        }
    }

    public void Remove(string key, string connectionId)
    {
        if (!_groups.TryGetValue(key, out var members))
        {
            return;
        }

        lock (members)
        {
            if (members.Connections.TryRemove(connectionId, out _) && members.Connections.IsEmpty)
            {
                members.Dropped = true;
                _groups.TryRemove(KeyValuePair.Create(key, members));
            }
        }
    }

    /// <summary>
    /// The local members of <paramref name="key"/>, by connection id. Enumerate the dictionary itself: that is
    /// lock-free and safe while others change it, where its Values property would lock and copy.
    /// </summary>
    public ConcurrentDictionary<string, LocalConnection>? Members(string key) => _groups.TryGetValue(key, out var members) ? members.Connections : null;

    /// <summary>The group of <paramref name="key"/>, or null when it has no local members.</summary>
    public MemberSet? Group(string key) => _groups.GetValueOrDefault(key);

    /// <summary>Each group with local members now: its key, how many, and how many messages it delivered here meanwhile.</summary>
    public List<Contracts.GroupCount> Counts()
    {
        var counts = new List<Contracts.GroupCount>(_groups.Count);
        foreach (var (key, members) in _groups)
        {
            counts.Add(new Contracts.GroupCount(key, members.Connections.Count, Volatile.Read(ref members.Delivered)));
        }

        return counts;
    }

    /// <summary>The keys with local members now.</summary>
    public IEnumerable<string> Keys => _groups.Keys;

    /// <summary>Takes every local member of <paramref name="key"/> out of the index.</summary>
    public ConcurrentDictionary<string, LocalConnection>? RemoveAll(string key)
    {
        if (!_groups.TryRemove(key, out var members))
        {
            return null;
        }

        lock (members)
        {
            members.Dropped = true;
            return members.Connections;
        }
    }

    internal sealed class MemberSet
    {
        public MemberSet(string key, Func<string, MemberSet, DeliveryOrder> orderOf) => Order = orderOf(key, this);

        public ConcurrentDictionary<string, LocalConnection> Connections { get; } = new(StringComparer.Ordinal);

        /// <summary>How many messages the group delivered to its local members since the set was made.</summary>
        public long Delivered;

        /// <summary>Applies the group's deliveries to its local members in the order the group sent them.</summary>
        public DeliveryOrder Order { get; }

        public bool Dropped { get; set; }
    }
}
