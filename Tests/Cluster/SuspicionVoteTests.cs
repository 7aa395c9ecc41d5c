using Realtime.Runtime;
using Realtime.Runtime.Internal.Membership;

namespace Realtime.Tests.Cluster;

public sealed class SuspicionVoteTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Expiration = TimeSpan.FromSeconds(60);

    [Fact]
    public void Cast_TwoSiloCluster_OneVoteDeclaresDeath()
    {
        var target = Silo("b");
        var snapshot = Snapshot(Silo("a"), target);

        var (votes, needed, dead) = SuspicionVote.Cast(snapshot, target, "a", Now, Expiration, votesForDeath: 2);

        Assert.Single(votes);
        Assert.Equal(1, needed);
        Assert.True(dead);
    }

    [Fact]
    public void Cast_ThreeSiloClusterFirstVote_OnlySuspects()
    {
        var target = Silo("c");

        var (votes, needed, dead) = SuspicionVote.Cast(Snapshot(Silo("a"), Silo("b"), target), target, "a", Now, Expiration, 2);

        Assert.Equal("a", Assert.Single(votes).By);
        Assert.Equal(2, needed);
        Assert.False(dead);
    }

    [Fact]
    public void Cast_SecondVoterWithinExpiration_DeclaresDeath()
    {
        var target = Silo("c") with { Suspicions = [new Suspicion("a", Now.AddSeconds(-10))] };

        var (votes, _, dead) = SuspicionVote.Cast(Snapshot(Silo("a"), Silo("b"), target), target, "b", Now, Expiration, 2);

        Assert.Equal(["a", "b"], votes.Select(v => v.By));
        Assert.True(dead);
    }

    [Fact]
    public void Cast_EarlierVoteExpired_DoesNotCount()
    {
        var target = Silo("c") with { Suspicions = [new Suspicion("a", Now.AddSeconds(-61))] };

        var (votes, _, dead) = SuspicionVote.Cast(Snapshot(Silo("a"), Silo("b"), target), target, "b", Now, Expiration, 2);

        Assert.Equal("b", Assert.Single(votes).By);
        Assert.False(dead);
    }

    [Fact]
    public void Cast_SameVoterAgain_ReplacesItsVoteInsteadOfCountingTwice()
    {
        var target = Silo("c") with { Suspicions = [new Suspicion("a", Now.AddSeconds(-5))] };

        var (votes, _, dead) = SuspicionVote.Cast(Snapshot(Silo("a"), Silo("b"), target), target, "a", Now, Expiration, 2);

        Assert.Equal(Now, Assert.Single(votes).At);
        Assert.False(dead);
    }

    [Fact]
    public void Cast_ClientsAndDeadSilos_AreNotVoters()
    {
        var target = Silo("c");
        var snapshot = Snapshot(Silo("a"), Silo("b") with { Status = MembershipStatus.Dead }, target, new MembershipEntry("gw", NodeRole.Client, MembershipStatus.Active, Now, []));

        var (_, needed, dead) = SuspicionVote.Cast(snapshot, target, "a", Now, Expiration, 2);

        Assert.Equal(1, needed);
        Assert.True(dead);
    }

    private static MembershipEntry Silo(string name) => new(name, NodeRole.Silo, MembershipStatus.Active, Now, []);

    private static MembershipSnapshot Snapshot(params MembershipEntry[] entries) => new(1, entries);
}
