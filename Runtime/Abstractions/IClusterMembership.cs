namespace Realtime.Runtime;

/// <summary>A change of the cluster as one node sees it.</summary>
/// <param name="OwnerBefore">Which silo owned a grain before the change (null: none was active).</param>
/// <param name="OwnerAfter">Which silo owns it now.</param>
/// <param name="Departed">Nodes (silos and clients) that left or were declared dead.</param>
public sealed record ClusterMembershipChange(Func<GrainId, string?> OwnerBefore, Func<GrainId, string?> OwnerAfter, IReadOnlyList<string> Departed)
{
    /// <summary>True when <paramref name="id"/> now lives on another silo than before.</summary>
    public bool Moved(GrainId id) => !string.Equals(OwnerBefore(id), OwnerAfter(id), StringComparison.Ordinal);
}

/// <summary>The membership view of this node: which silos are active and which owns a grain.</summary>
public interface IClusterMembership
{
    IReadOnlyList<string> ActiveSilos { get; }

    string? OwnerOf(GrainId id);

    /// <summary>Raised after the view changed. Handlers must not block; start async work and return.</summary>
    event Action<ClusterMembershipChange>? Changed;
}
