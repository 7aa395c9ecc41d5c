using System.Collections.Immutable;
using System.Net;
using System.Threading.Channels;

namespace Realtime.Tests.Core;

/// <summary>A membership whose updates the test announces: the silos numbered, each with the status given.</summary>
internal sealed class FakeMembership : IClusterMembershipService
{
    private readonly Channel<ClusterMembershipSnapshot> _updates = Channel.CreateUnbounded<ClusterMembershipSnapshot>();
    private long _version;

    public ClusterMembershipSnapshot CurrentSnapshot { get; private set; } =
        new(ImmutableDictionary<SiloAddress, ClusterMember>.Empty, new MembershipVersion(0));

    public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => _updates.Reader.ReadAllAsync();

    public void Declare(SiloStatus status, params int[] silos)
    {
        var members = silos.Select(n => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11110 + n), n))
            .ToImmutableDictionary(s => s, s => new ClusterMember(s, status, $"silo{s.Generation}"));
        CurrentSnapshot = new ClusterMembershipSnapshot(members, new MembershipVersion(++_version));
        _updates.Writer.TryWrite(CurrentSnapshot);
    }

    public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public Task<bool> TryKill(SiloAddress siloAddress) => Task.FromResult(false);
}
