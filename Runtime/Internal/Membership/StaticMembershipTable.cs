using Realtime.Runtime.Hosting;
using Realtime.Runtime.Internal.Transport;

namespace Realtime.Runtime.Internal.Membership;

/// <summary>
/// A client's stand-in for the membership table when it is given silo addresses instead (<c>Cluster:Silos</c>): each
/// read dials the addresses it has no live connection to and lists the silos that answer as active. The client
/// writes nothing; its own row is listed so it never thinks the table lost it.
/// </summary>
internal sealed class StaticMembershipTable(IReadOnlyList<string> addresses, MessageCenter messages, NodeIdentity self, TimeSpan timeout) : IMembershipTable
{
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private long _version;

    public async Task<MembershipSnapshot> ReadAllAsync(CancellationToken cancellationToken)
    {
        var entries = new List<MembershipEntry>();
        foreach (var address in addresses)
        {
            if (!_names.TryGetValue(address, out var name) || !messages.IsConnected(name))
            {
                RedisEndpoint.TryParse(address, out var host, out var port);
                name = await messages.IdentifyAsync(host, port, timeout);
                if (name is null)
                {
                    _names.Remove(address);
                    continue;
                }

                _names[address] = name;
            }

            entries.Add(new MembershipEntry(name, NodeRole.Silo, MembershipStatus.Active, DateTimeOffset.UnixEpoch, []));
        }

        if (entries.Count == 0)
        {
            throw new MembershipUnavailableException($"None of the silos in Cluster:Silos ({string.Join(", ", addresses)}) answers.");
        }

        entries.Add(new MembershipEntry(self.Name, NodeRole.Client, MembershipStatus.Active, DateTimeOffset.UnixEpoch, []));
        return new MembershipSnapshot(Interlocked.Increment(ref _version), entries);
    }

    public Task<bool> TryInsertAsync(MembershipEntry entry, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task<bool> TryUpdateAsync(MembershipEntry entry, long expectedETag, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task UpdateIAmAliveAsync(string name, DateTimeOffset time, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<int> DeleteDeadAsync(DateTimeOffset before, CancellationToken cancellationToken) => Task.FromResult(0);
}
