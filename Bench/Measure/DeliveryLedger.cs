using System.Diagnostics;
using Realtime.Bench.Clients;

namespace Realtime.Bench.Measure;

/// <summary>
/// Every bench message each connection received, by sender and sequence number, so that a run can say exactly how
/// many messages were lost, duplicated or delivered where they should not be; and the counters of the measurement
/// window open at the time (deliveries and send-to-receive latency).
/// </summary>
public sealed class DeliveryLedger : IDeliverySink
{
    private readonly Dictionary<int, SequenceSet>[] _received;
    private readonly long[] _sent;
    private readonly ThreadLocal<Counters> _total = new(() => new Counters(), trackAllValues: true);
    private volatile SemaphoreSlim?[]? _windows;
    private volatile Window? _window;

    public DeliveryLedger(int connections)
    {
        _received = Enumerable.Range(0, connections).Select(_ => new Dictionary<int, SequenceSet>()).ToArray();
        _sent = new long[connections];
    }

    /// <summary>Every delivery so far, in or out of a window.</summary>
    public long Delivered => _total.Values.Sum(c => c.Delivered);

    public long Sent => _sent.Sum();

    /// <summary>How many connections the ledger covers (each may send).</summary>
    public int SentLength => _sent.Length;

    /// <summary>Messages a sender has sent: also the sequence number of its next one.</summary>
    public long SentBy(int sender) => Volatile.Read(ref _sent[sender]);

    /// <summary>Counts a message as sent; only the sender's own loop calls it.</summary>
    public void CountSent(int sender) => Volatile.Write(ref _sent[sender], _sent[sender] + 1);

    /// <summary>Per-sender credits, returned when a sender receives its own message: at most that many in flight.</summary>
    public SemaphoreSlim?[]? Windows
    {
        get => _windows;
        set => _windows = value;
    }

    public void Open(Window window) => _window = window;

    public void Close() => _window = null;

    public void Deliver(LoadConnection receiver, int sender, long sequence, long timestamp)
    {
        var now = Stopwatch.GetTimestamp();

        // Only the receiver's own read loop writes its entry: no lock.
        var bySender = _received[receiver.Index];
        if (!bySender.TryGetValue(sender, out var set))
        {
            bySender[sender] = set = new SequenceSet();
        }

        set.Add(sequence);
        _total.Value!.Delivered++;
        _window?.Record(now - timestamp);
        if (receiver.Index == sender && _windows is { } windows && (uint)sender < (uint)windows.Length)
        {
            windows[sender]?.Release();
        }
    }

    /// <summary>
    /// Compares what arrived with what should have: every member of a group receives every message of every sender of
    /// that group, once.
    /// </summary>
    public Check Verify(IEnumerable<Group> groups)
    {
        var expected = new Dictionary<int, HashSet<int>>();
        long lost = 0, duplicated = 0, unexpected = 0;
        foreach (var group in groups)
        {
            foreach (var member in group.Members)
            {
                foreach (var sender in group.Senders)
                {
                    if (!(expected.TryGetValue(member, out var senders) ? senders : expected[member] = []).Add(sender))
                    {
                        continue;
                    }

                    var set = _received[member].GetValueOrDefault(sender);
                    lost += SentBy(sender) - (set?.CountBelow(SentBy(sender)) ?? 0);
                }
            }
        }

        for (var receiver = 0; receiver < _received.Length; receiver++)
        {
            foreach (var (sender, set) in _received[receiver])
            {
                duplicated += set.Duplicates;
                if (!expected.TryGetValue(receiver, out var senders) || !senders.Contains(sender))
                {
                    unexpected += set.Distinct;
                }
            }
        }

        return new Check(lost, duplicated, unexpected);
    }

    /// <summary>Whether <paramref name="receiver"/> got message <paramref name="sequence"/> of <paramref name="sender"/>.</summary>
    public bool Received(int receiver, int sender, long sequence) =>
        _received[receiver].TryGetValue(sender, out var set) && set.Contains(sequence);

    /// <summary>How many of the messages of <paramref name="sender"/> numbered below <paramref name="limit"/> <paramref name="receiver"/> got.</summary>
    public long CountBelow(int receiver, int sender, long limit) =>
        _received[receiver].TryGetValue(sender, out var set) ? set.CountBelow(limit) : 0;

    /// <summary>How many messages arrived more than once, at any receiver.</summary>
    public long Duplicates() => _received.Sum(bySender => bySender.Values.Sum(set => set.Duplicates));

    /// <summary>How many deliveries all the groups' messages sent so far make.</summary>
    public long Expected(IEnumerable<Group> groups) => groups.Sum(g => g.Senders.Sum(SentBy) * (long)g.Members.Count);

    /// <summary>A set of connections that hear each other: a room, or the namespace.</summary>
    public sealed record Group(IReadOnlyList<int> Members, IReadOnlyList<int> Senders);

    public sealed record Check(long Lost, long Duplicated, long Unexpected)
    {
        public bool Clean => Lost == 0 && Duplicated == 0 && Unexpected == 0;
    }

    /// <summary>A measurement window: deliveries and latency while it is open.</summary>
    public sealed class Window
    {
        private readonly ThreadLocal<Counters> _counters = new(() => new Counters(), trackAllValues: true);

        public long Delivered => _counters.Values.Sum(c => c.Delivered);

        public Histogram Latency()
        {
            var merged = new Histogram();
            foreach (var counters in _counters.Values)
            {
                merged.Add(counters.Latency);
            }

            return merged;
        }

        internal void Record(long elapsedTicks)
        {
            var counters = _counters.Value!;
            counters.Delivered++;
            counters.Latency.Record(elapsedTicks * 1_000_000 / Stopwatch.Frequency);
        }
    }

    private sealed class Counters
    {
        public long Delivered;
        public readonly Histogram Latency = new();
    }

    /// <summary>The sequence numbers received from one sender: a bitmap, and how many came more than once.</summary>
    private sealed class SequenceSet
    {
        private ulong[] _bits = new ulong[4];

        public long Distinct { get; private set; }

        public long Duplicates { get; private set; }

        public void Add(long sequence)
        {
            var word = (int)(sequence >> 6);
            if (word >= _bits.Length)
            {
                Array.Resize(ref _bits, Math.Max(word + 1, _bits.Length * 2));
            }

            var bit = 1UL << (int)(sequence & 63);
            if ((_bits[word] & bit) != 0)
            {
                Duplicates++;
                return;
            }

            _bits[word] |= bit;
            Distinct++;
        }

        public bool Contains(long sequence)
        {
            var word = (int)(sequence >> 6);
            return word < _bits.Length && (_bits[word] & (1UL << (int)(sequence & 63))) != 0;
        }

        public long CountBelow(long limit)
        {
            long count = 0;
            var words = (int)Math.Min(_bits.Length, limit >> 6);
            for (var i = 0; i < words; i++)
            {
                count += System.Numerics.BitOperations.PopCount(_bits[i]);
            }

            if (words < _bits.Length && (limit & 63) != 0)
            {
                count += System.Numerics.BitOperations.PopCount(_bits[words] & ((1UL << (int)(limit & 63)) - 1));
            }

            return count;
        }
    }
}
