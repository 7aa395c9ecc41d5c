using Realtime.Runtime.Internal.Transport;

namespace Realtime.Runtime.Internal.Membership;

internal enum MembershipStatus : byte
{
    Joining = 0,
    Active = 1,
    ShuttingDown = 2,
    Dead = 3,
}

/// <summary>A silo's suspicion that another node is dead, and when it was raised.</summary>
internal sealed record Suspicion(string By, DateTimeOffset At);

/// <summary>
/// One row of the membership table: a node (silo or client), its status and the suspicions against it. Every write
/// of a row but the I-am-alive time goes through a compare-and-swap on <see cref="ETag"/>.
/// </summary>
internal sealed record MembershipEntry(string Name, NodeRole Role, MembershipStatus Status, DateTimeOffset StartTime, IReadOnlyList<Suspicion> Suspicions)
{
    /// <summary>The row's version; each successful write stores the next one.</summary>
    public long ETag { get; init; }

    /// <summary>The last time the node said it was alive (written without compare-and-swap, by the node only).</summary>
    public DateTimeOffset IAmAlive { get; init; }

    public bool IsActiveSilo => Role == NodeRole.Silo && Status == MembershipStatus.Active;
}

/// <summary>The whole table as read at once, with its version (bumped by every insert and update).</summary>
internal sealed record MembershipSnapshot(long Version, IReadOnlyList<MembershipEntry> Entries)
{
    public static readonly MembershipSnapshot Empty = new(0, []);

    public MembershipEntry? Find(string name)
    {
        foreach (var entry in Entries)
        {
            if (entry.Name == name)
            {
                return entry;
            }
        }

        return null;
    }
}

/// <summary>Where the membership table lives.</summary>
internal interface IMembershipTable
{
    Task<MembershipSnapshot> ReadAllAsync(CancellationToken cancellationToken);

    /// <summary>Adds a row; false when a row with that name exists.</summary>
    Task<bool> TryInsertAsync(MembershipEntry entry, CancellationToken cancellationToken);

    /// <summary>Replaces a row if its version is still <paramref name="expectedETag"/>; the stored row gets the next version.</summary>
    Task<bool> TryUpdateAsync(MembershipEntry entry, long expectedETag, CancellationToken cancellationToken);

    Task UpdateIAmAliveAsync(string name, DateTimeOffset time, CancellationToken cancellationToken);

    /// <summary>Deletes the rows of nodes that are dead and were last alive before <paramref name="before"/>; returns how many.</summary>
    Task<int> DeleteDeadAsync(DateTimeOffset before, CancellationToken cancellationToken);
}

/// <summary>The membership table cannot be reached.</summary>
internal sealed class MembershipUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
