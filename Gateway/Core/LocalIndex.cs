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
    /// members goes out of the index at once, unless another leave is still on its way (see <see cref="RemoveKeeping"/>).
    /// </summary>
    public void Remove(string key, string connectionId) => Drop(key, RemoveKeeping(key, connectionId));

    /// <summary>
    /// Takes a connection out of a group before its grain is told. Until <see cref="Drop"/> is called for it (once the
    /// grain has the leave), the group stays in the index with the order of its deliveries even when it has no members
    /// left: a member that joins here meanwhile may reach the grain while the grain still counts this one, and the
    /// grain then goes on with the chain it numbers this gateway's deliveries on, which a new order would take for a run
    /// of lost deliveries. Every leave on its way counts, not only the one that emptied the group: the one that answers
    /// first may not be the last the grain is still to have. Returns the group to pass to <see cref="Drop"/>, or null
    /// when the connection was not in it.
    /// </summary>
    public MemberSet? RemoveKeeping(string key, string connectionId)
    {
        if (!_groups.TryGetValue(key, out var members))
        {
            return null;
        }

        lock (members)
        {
            if (!members.Connections.TryRemove(connectionId, out _))
            {
                return null;
            }

            members.Leaving++;
            return members;
        }
    }

    /// <summary>
    /// Ends a leave of <see cref="RemoveKeeping"/>: the group goes out of the index when it has no members and no other
    /// leave is on its way.
    /// </summary>
    public void Drop(string key, MemberSet? members)
    {
        if (members is null)
        {
            return;
        }

        lock (members)
        {
            members.Leaving--;
            if (members.Leaving == 0 && members.Connections.IsEmpty && !members.Dropped)
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

        /// <summary>How many leaves taken out here are still on their way to the grain (see <see cref="RemoveKeeping"/>); under the set's lock.</summary>
        public int Leaving { get; set; }
    }
}
