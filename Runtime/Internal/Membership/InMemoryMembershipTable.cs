namespace Realtime.Runtime.Internal.Membership;

/// <summary>A membership table inside one process: for the embedded mode and for tests of several nodes in one process.</summary>
internal sealed class InMemoryMembershipTable : IMembershipTable
{
    private readonly object _lock = new();
    private readonly Dictionary<string, MembershipEntry> _rows = new(StringComparer.Ordinal);
    private long _version;

    /// <summary>While true every call fails as if the table's server were down.</summary>
    public bool Unavailable { get; set; }

    public Task<MembershipSnapshot> ReadAllAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            ThrowIfUnavailable();
            return Task.FromResult(new MembershipSnapshot(_version, _rows.Values.ToArray()));
        }
    }

    public Task<bool> TryInsertAsync(MembershipEntry entry, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            ThrowIfUnavailable();
            if (!_rows.TryAdd(entry.Name, entry with { ETag = 1 }))
            {
                return Task.FromResult(false);
            }

            _version++;
            return Task.FromResult(true);
        }
    }

    public Task<bool> TryUpdateAsync(MembershipEntry entry, long expectedETag, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            ThrowIfUnavailable();
            if (!_rows.TryGetValue(entry.Name, out var current) || current.ETag != expectedETag)
            {
                return Task.FromResult(false);
            }

            _rows[entry.Name] = entry with { ETag = expectedETag + 1, IAmAlive = current.IAmAlive };
            _version++;
            return Task.FromResult(true);
        }
    }

    public Task UpdateIAmAliveAsync(string name, DateTimeOffset time, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            ThrowIfUnavailable();
            if (_rows.TryGetValue(name, out var current))
            {
                _rows[name] = current with { IAmAlive = time };
            }

            return Task.CompletedTask;
        }
    }

    public Task<int> DeleteDeadAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            ThrowIfUnavailable();
            var dead = _rows.Values.Where(r => r.Status == MembershipStatus.Dead && Max(r.IAmAlive, r.StartTime) < before).Select(r => r.Name).ToArray();
            foreach (var name in dead)
            {
                _rows.Remove(name);
            }

            if (dead.Length > 0)
            {
                _version++;
            }

            return Task.FromResult(dead.Length);
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private void ThrowIfUnavailable()
    {
        if (Unavailable)
        {
            throw new MembershipUnavailableException("The in-memory membership table is set unavailable.");
        }
    }
}
