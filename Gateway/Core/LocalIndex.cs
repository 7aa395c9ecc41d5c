using System.Collections.Concurrent;

namespace Realtime.Gateway.Core;

/// <summary>
/// The local connections of each group key (room, namespace or user) on this gateway, with the order in which the
/// group's deliveries are applied to them. A group is here while it has local members, and until its grain has the
/// leave of the last one.
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

    /// <summary>
    /// Takes a connection out of a group whose grain already knows it left (its notice came): a group left without
    /// members goes out of the index at once.
    /// </summary>
    public void Remove(string key, string connectionId) => Drop(key, RemoveKeeping(key, connectionId));

    /// <summary>
    /// Takes a connection out of a group before its grain is told. A group left without members stays in the index,
    /// with the order of its deliveries, until <see cref="Drop"/> is called once the grain has the leave: a member that
    /// joins here meanwhile may reach the grain first, and the grain then goes on with the chain it numbers this
    /// gateway's deliveries on, which a new order would take for a run of lost deliveries. Returns the group when it
    /// was left without members, null otherwise.
    /// </summary>
    public MemberSet? RemoveKeeping(string key, string connectionId)
    {
        if (!_groups.TryGetValue(key, out var members))
        {
            return null;
        }

        lock (members)
        {
            return members.Connections.TryRemove(connectionId, out _) && members.Connections.IsEmpty ? members : null;
        }
    }

    /// <summary>Takes a group out of the index if it is still without members (see <see cref="RemoveKeeping"/>).</summary>
    public void Drop(string key, MemberSet? members)
    {
        if (members is null)
        {
            return;
        }

        lock (members)
        {
            if (members.Connections.IsEmpty && !members.Dropped)
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

    /// <summary>
    /// The group of <paramref name="key"/>, or null when it has no local members (nor lost its last one moments ago:
    /// see <see cref="RemoveKeeping"/>).
    /// </summary>
    public MemberSet? Group(string key) => _groups.GetValueOrDefault(key);

    /// <summary>Each group with local members now: its key, how many, and how many messages it delivered here meanwhile.</summary>
    public List<Contracts.GroupCount> Counts()
    {
        var counts = new List<Contracts.GroupCount>(_groups.Count);
        foreach (var (key, members) in _groups)
        {
            if (members.Connections.IsEmpty)
            {
                continue; // kept until its grain has the leave of its last member
            }

            counts.Add(new Contracts.GroupCount(key, members.Connections.Count, Volatile.Read(ref members.Delivered)));
        }

        return counts;
    }

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
