namespace Realtime.Runtime.Internal;

/// <summary>Hashes that every node computes alike, unlike <see cref="string.GetHashCode()"/>, which is randomized per process.</summary>
internal static class StableHash
{
    public static uint Fnv1a32(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ (byte)c) * 16777619u;
            hash = (hash ^ (byte)(c >> 8)) * 16777619u;
        }

        return hash;
    }

    /// <summary>A 64-bit hash with good spread over the whole range, for placing keys on the hash ring.</summary>
    public static ulong Hash64(string value) => Finish(Fnv64(OffsetBasis, value));

    /// <summary>
    /// <see cref="Hash64(string)"/> of <c>first + separator + second</c>, without building that string: routing hashes
    /// a grain id on every call.
    /// </summary>
    public static ulong Hash64(ReadOnlySpan<char> first, char separator, ReadOnlySpan<char> second) =>
        Finish(Fnv64(Fnv64(Fnv64(OffsetBasis, first), [separator]), second));

    private const ulong OffsetBasis = 14695981039346656037ul;

    private static ulong Fnv64(ulong hash, ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            hash = (hash ^ (byte)c) * 1099511628211ul;
            hash = (hash ^ (byte)(c >> 8)) * 1099511628211ul;
        }

        return hash;
    }

    // splitmix64's finalizer: FNV alone clusters similar keys ("room1", "room2") on the ring.
    private static ulong Finish(ulong hash)
    {
        hash ^= hash >> 30;
        hash *= 0xbf58476d1ce4e5b9ul;
        hash ^= hash >> 27;
        hash *= 0x94d049bb133111ebul;
        hash ^= hash >> 31;
        return hash;
    }
}
