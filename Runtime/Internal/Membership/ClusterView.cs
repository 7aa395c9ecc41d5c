namespace Realtime.Runtime.Internal.Membership;

/// <summary>This node's current picture of the cluster: the last table it read, and the ring of its active silos.</summary>
internal sealed class MembershipView
{
    public static readonly MembershipView Empty = new(MembershipSnapshot.Empty, 1);

    public MembershipView(MembershipSnapshot snapshot, int virtualNodes)
    {
        Snapshot = snapshot;
        ActiveSilos = snapshot.Entries.Where(e => e.IsActiveSilo).Select(e => e.Name).Order(StringComparer.Ordinal).ToArray();
        Ring = new HashRing(ActiveSilos, virtualNodes);
    }

    public MembershipSnapshot Snapshot { get; }

    public IReadOnlyList<string> ActiveSilos { get; }

    public HashRing Ring { get; }

    /// <summary>True when the two views differ in anything routing depends on: the nodes and their statuses.</summary>
    public bool SameMembersAs(MembershipView other) =>
        Snapshot.Entries.Count == other.Snapshot.Entries.Count &&
        Snapshot.Entries.All(e => other.Snapshot.Find(e.Name) is { } o && o.Status == e.Status);

    /// <summary>Nodes that were alive in <paramref name="before"/> and are dead or gone in this view.</summary>
    public IReadOnlyList<MembershipEntry> DepartedSince(MembershipView before) =>
        before.Snapshot.Entries
            .Where(e => e.Status != MembershipStatus.Dead && Snapshot.Find(e.Name) is not { Status: not MembershipStatus.Dead })
            .ToArray();
}

/// <summary>Holds the current <see cref="MembershipView"/> and tells listeners when it changes.</summary>
internal sealed class ClusterView : IClusterMembership
{
    private readonly object _lock = new();
    private MembershipView _current = MembershipView.Empty;
    private TaskCompletionSource _refreshRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MembershipView Current => Volatile.Read(ref _current);

    /// <summary>Raised after the view changed, with the view before and after; handlers must not block.</summary>
    public event Action<MembershipView, MembershipView>? Changed;

    event Action<ClusterMembershipChange>? IClusterMembership.Changed
    {
        add => PublicChanged += value;
        remove => PublicChanged -= value;
    }

    private event Action<ClusterMembershipChange>? PublicChanged;

    IReadOnlyList<string> IClusterMembership.ActiveSilos => Current.ActiveSilos;

    string? IClusterMembership.OwnerOf(GrainId id) => Current.Ring.Owner(id);

    /// <summary>Completes when something asked for an early table read (a call was forwarded: our view is stale).</summary>
    public Task RefreshRequested
    {
        get
        {
            lock (_lock)
            {
                return _refreshRequested.Task;
            }
        }
    }

    public void RequestRefresh()
    {
        lock (_lock)
        {
            _refreshRequested.TrySetResult();
            _refreshRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Update(MembershipView next)
    {
        MembershipView before;
        lock (_lock)
        {
            before = _current;
            Volatile.Write(ref _current, next);
        }

        if (before.SameMembersAs(next))
        {
            return;
        }

        Changed?.Invoke(before, next);
        PublicChanged?.Invoke(new ClusterMembershipChange(
            before.Ring.Owner,
            next.Ring.Owner,
            next.DepartedSince(before).Select(e => e.Name).ToArray()));
    }
}
