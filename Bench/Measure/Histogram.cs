using System.Numerics;

namespace Realtime.Bench.Measure;

/// <summary>
/// Latencies in microseconds, in log-linear buckets: exact below 128 µs, then 64 buckets per power of two (within
/// about 1.6 %). Not thread-safe: each thread records into its own, and they are merged at the end.
/// </summary>
public sealed class Histogram
{
    private const int SubBuckets = 64;
    private readonly long[] _counts = new long[64 * SubBuckets];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public void Record(long microseconds)
    {
        var value = Math.Max(0, microseconds);
        _counts[Index(value)]++;
        Count++;
        Max = Math.Max(Max, value);
    }

    public void Add(Histogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The value at the quantile (0 to 1), in microseconds: the upper edge of its bucket.</summary>
    public long Percentile(double quantile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(quantile * Count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(Max, UpperEdge(i));
            }
        }

        return Max;
    }

    internal static int Index(long value)
    {
        if (value < 2 * SubBuckets)
        {
            return (int)value;
        }

        var shift = 63 - BitOperations.LeadingZeroCount((ulong)value) - 6;
        return ((shift + 1) * SubBuckets) + (int)(value >> shift) - SubBuckets;
    }

    internal static long UpperEdge(int index)
    {
        if (index < 2 * SubBuckets)
        {
            return index;
        }

        var shift = (index / SubBuckets) - 1;
        var mantissa = (index % SubBuckets) + SubBuckets;
        return ((mantissa + 1L) << shift) - 1;
    }
}
