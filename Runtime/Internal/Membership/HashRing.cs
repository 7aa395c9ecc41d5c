namespace Realtime.Runtime.Internal.Membership;

/// <summary>
/// Consistent hashing over the active silos: each silo owns <c>virtualNodes</c> points of a 64-bit ring, and a grain
/// belongs to the silo of the first point at or after the grain's hash. Every node builds the same ring from the same
/// membership view, so every node routes a call straight to the same owner; when a silo joins or leaves, only the
/// grains on the arcs it gains or loses move.
/// </summary>
internal sealed class HashRing
{
    public static readonly HashRing Empty = new([], 1);

    private readonly ulong[] _points;
    private readonly string[] _owners;

    public HashRing(IReadOnlyCollection<string> silos, int virtualNodes)
    {
        var points = new List<(ulong Point, string Silo)>(silos.Count * virtualNodes);
        foreach (var silo in silos)
        {
            for (var i = 0; i < virtualNodes; i++)
            {
                points.Add((StableHash.Hash64($"{silo}#{i}"), silo));
            }
        }

        points.Sort((a, b) => a.Point != b.Point ? a.Point.CompareTo(b.Point) : string.CompareOrdinal(a.Silo, b.Silo));
        _points = points.Select(p => p.Point).ToArray();
        _owners = points.Select(p => p.Silo).ToArray();
        Silos = silos.ToArray();
    }

    public IReadOnlyList<string> Silos { get; }

    /// <summary>The silo that owns <paramref name="id"/>, or null when no silo is active.</summary>
    public string? Owner(GrainId id)
    {
        if (_points.Length == 0)
        {
            return null;
        }

        var hash = StableHash.Hash64(id.Type, '/', id.Key);
        var index = Array.BinarySearch(_points, hash);
        if (index < 0)
        {
            index = ~index;
        }

        return _owners[index == _points.Length ? 0 : index];
    }
}
