using Realtime.Contracts;
using Realtime.Contracts.Hosting;

namespace Realtime.Grains.Groups;

/// <summary>
/// The recent messages of one stream (a room, a namespace, or a session's messages to its connection), oldest first,
/// as many and as old as <see cref="HistoryOptions"/> allow, and what a client that has the stream up to a
/// position missed: all of it, or, when some of it is gone, nothing.
/// </summary>
internal sealed class MessageHistory(HistoryOptions options, TimeProvider time)
{
    private readonly Queue<(HistoryEntry Entry, DateTimeOffset At)> _entries = new();

    // The first sequence number the history can account for: messages before it are gone (aged out or trimmed).
    private long _start = 1;

    public int Count => _entries.Count;

    /// <summary>How long a message is kept.</summary>
    public TimeSpan MaxAge => options.MaxAge;

    public void Add(HistoryEntry entry)
    {
        if (!options.Enabled)
        {
            _start = entry.Sequence + 1;
            return;
        }

        _entries.Enqueue((entry, time.GetUtcNow()));
        Trim();
    }

    /// <summary>
    /// What came after <paramref name="sequence"/> of <paramref name="epoch"/>, for a stream at <paramref name="latest"/>
    /// of <paramref name="currentEpoch"/>: complete only when nothing of it is gone.
    /// </summary>
    public Replay Since(string? epoch, long sequence, string currentEpoch, long latest)
    {
        Trim();
        if (!options.Enabled || epoch != currentEpoch || sequence > latest || sequence + 1 < _start)
        {
            return new Replay(false, currentEpoch, latest, []);
        }

        var missed = new List<HistoryEntry>();
        foreach (var (entry, _) in _entries)
        {
            if (entry.Sequence > sequence)
            {
                missed.Add(entry);
            }
        }

        return new Replay(true, currentEpoch, latest, missed);
    }

    public void Clear() => _entries.Clear();

    /// <summary>What the history holds, to carry it to another activation (a grain that migrates).</summary>
    public HistorySnapshot Export() => new(_start, [.. _entries.Select(e => e.Entry)], [.. _entries.Select(e => e.At)]);

    /// <summary>Takes over what another activation's history held.</summary>
    public void Import(HistorySnapshot snapshot)
    {
        _entries.Clear();
        _start = snapshot.Start;
        for (var i = 0; i < snapshot.Entries.Length; i++)
        {
            _entries.Enqueue((snapshot.Entries[i], snapshot.At[i]));
        }

        Trim();
    }

    private void Trim()
    {
        var cutoff = time.GetUtcNow() - options.MaxAge;
        while (_entries.Count > 0 && (_entries.Count > options.MaxMessages || _entries.Peek().At < cutoff))
        {
            _start = _entries.Dequeue().Entry.Sequence + 1;
        }
    }
}

/// <summary>A history carried from one activation to the next when a grain migrates.</summary>
[GenerateSerializer, Immutable, Alias("realtime.history-snapshot")]
internal sealed record HistorySnapshot([property: Id(0)] long Start, [property: Id(1)] HistoryEntry[] Entries, [property: Id(2)] DateTimeOffset[] At);
