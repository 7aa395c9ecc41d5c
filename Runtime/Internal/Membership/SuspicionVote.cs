namespace Realtime.Runtime.Internal.Membership;

/// <summary>The voting rule of the membership protocol, apart from any I/O so it can be reasoned about and tested.</summary>
internal static class SuspicionVote
{
    /// <summary>
    /// Adds <paramref name="voter"/>'s suspicion of <paramref name="target"/> to the fresh ones (younger than
    /// <paramref name="expiration"/>, one per voter) and says whether they are enough to declare it dead. The votes
    /// needed are <paramref name="votesForDeath"/>, but never more than the active silos other than the target, so a
    /// two-silo cluster can still declare a death.
    /// </summary>
    public static (IReadOnlyList<Suspicion> Votes, int Needed, bool Dead) Cast(
        MembershipSnapshot snapshot, MembershipEntry target, string voter, DateTimeOffset now, TimeSpan expiration, int votesForDeath)
    {
        var votes = target.Suspicions.Where(s => s.By != voter && now - s.At < expiration).ToList();
        votes.Add(new Suspicion(voter, now));
        var voters = snapshot.Entries.Count(e => e.IsActiveSilo && e.Name != target.Name);
        var needed = Math.Min(votesForDeath, Math.Max(1, voters));
        return (votes, needed, votes.Count >= needed);
    }
}
