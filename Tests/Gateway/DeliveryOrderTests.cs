using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.SignalR;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>
/// How a gateway puts one group's deliveries back in the order the group sent them: deliveries that come early, late,
/// never, or twice. The clock is a manual one, so the gap timeout passes only when a test moves it.
/// </summary>
public sealed class DeliveryOrderTests
{
    private const long Chain = 7;

    [Fact]
    public void InOrder_EachIsAppliedAtOnce()
    {
        var order = new Recorder();

        order.Accept(1, 2, 3);

        Assert.Equal([1, 2, 3], order.Applied);
        Assert.Empty(order.Lost);
    }

    [Fact]
    public void Early_WaitsForThoseBeforeIt_ThenAllGoInOrder()
    {
        var order = new Recorder();

        order.Accept(1, 3, 4);
        Assert.Equal([1], order.Applied);

        order.Accept(2);
        Assert.Equal([1, 2, 3, 4], order.Applied);

        // Nothing was missing: the timeout finds nothing to give up.
        order.Clock.Advance(DeliveryOrder.GapTimeout * 2);
        Assert.Empty(order.Lost);
    }

    [Fact]
    public async Task Missing_IsFilledFromTheHistory_InItsPlace_AndTheLateOriginalIsADuplicate()
    {
        var asked = new List<(long Next, long After)>();
        var order = new Recorder((next, after) =>
        {
            asked.Add((next.Sequence, after));
            return Task.FromResult<IReadOnlyList<Delivery>?>([Delivery(Chain, 3) with { Position = 0 }, Delivery(Chain, 2) with { Position = 0 }]);
        });
        order.Accept(1, 4, 5);

        order.Clock.Advance(DeliveryOrder.GapTimeout);
        await Eventually.True(() => order.AppliedSequences.Count == 5, "the gap to be filled");

        Assert.Equal([(4L, 1L)], asked);
        Assert.Equal([1, 2, 3, 4, 5], order.AppliedSequences);
        Assert.Empty(order.Lost);
        order.Accept(2, 3, 6);
        Assert.Equal([1, 2, 3, 4, 5, 6], order.AppliedSequences);
    }

    [Fact]
    public async Task Missing_ThatTheHistoryCannotGive_IsGivenUp_AndALateOneStillComesInItsTurn()
    {
        var order = new Recorder((_, _) => Task.FromResult<IReadOnlyList<Delivery>?>(null));
        order.Accept(1, 4);

        order.Clock.Advance(DeliveryOrder.GapTimeout);
        await Eventually.True(() => order.Applied.Count == 2, "the gap to be given up");

        Assert.Equal([(4L, 2L)], order.Lost);
        order.Accept(3);
        Assert.Equal([1, 4, 3], order.Applied);
    }

    [Fact]
    public void AGapOfNoticesOnly_IsNotLookedUp()
    {
        var asked = 0;
        var order = new Recorder((_, _) =>
        {
            asked++;
            return Task.FromResult<IReadOnlyList<Delivery>?>([]);
        });
        order.Accept(1);

        // Position 2 was a notice (a member left), which carries the sequence number of the message before it.
        order.Accept(Delivery(Chain, 3) with { Sequence = 2 });
        order.Clock.Advance(DeliveryOrder.GapTimeout);

        Assert.Equal(0, asked);
        Assert.Equal([(3L, 1L)], order.Lost);
    }

    [Fact]
    public void Missing_IsGivenUpAfterTheGapTimeout_CountedAsLost_AndTheRestGoOn()
    {
        var order = new Recorder();
        order.Accept(1, 4, 5);

        order.Clock.Advance(DeliveryOrder.GapTimeout - TimeSpan.FromMilliseconds(1));
        Assert.Equal([1], order.Applied);

        order.Clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([1, 4, 5], order.Applied);
        Assert.Equal([(4L, 2L)], order.Lost);

        order.Accept(6);
        Assert.Equal([1, 4, 5, 6], order.Applied);
    }

    [Fact]
    public void ASecondGap_WaitsAgain_FromWhenTheFirstWasGivenUp()
    {
        var order = new Recorder();
        order.Accept(1, 3, 5);

        order.Clock.Advance(DeliveryOrder.GapTimeout);
        Assert.Equal([1, 3], order.Applied);
        Assert.Equal([(3L, 1L)], order.Lost);

        order.Clock.Advance(DeliveryOrder.GapTimeout);
        Assert.Equal([1, 3, 5], order.Applied);
        Assert.Equal([(3L, 1L), (5L, 1L)], order.Lost);
    }

    [Fact]
    public void Late_AfterItsSuccessorsWentOn_IsAppliedWhenItComes_Once()
    {
        var order = new Recorder();
        order.Accept(1, 4);
        order.Clock.Advance(DeliveryOrder.GapTimeout);

        order.Accept(3, 2, 3, 2);

        Assert.Equal([1, 4, 3, 2], order.Applied);
    }

    [Fact]
    public void Duplicate_OfOneApplied_IsDropped_InOrderOrWaiting()
    {
        var order = new Recorder();

        order.Accept(1, 2, 1, 2);
        Assert.Equal([1, 2], order.Applied);

        // A duplicate of one that waits is dropped too.
        order.Accept(4, 4, 3, 4);
        Assert.Equal([1, 2, 3, 4], order.Applied);
        Assert.Empty(order.Lost);
    }

    [Fact]
    public void Duplicate_OfALateOne_IsDropped()
    {
        var order = new Recorder();
        order.Accept(1, 5);
        order.Clock.Advance(DeliveryOrder.GapTimeout);
        Assert.Equal([(5L, 3L)], order.Lost);

        // 2..4 were given up; 3 comes, then again, then 2 and 4 and a duplicate of 5.
        order.Accept(3, 3, 2, 4, 5);

        Assert.Equal([1, 5, 3, 2, 4], order.Applied);
    }

    [Fact]
    public void OnlyTheNewestGapsAreRemembered_ALateOneOfAnOlderGapIsTakenForADuplicate()
    {
        var order = new Recorder();
        order.Accept(1);
        var next = 2L;
        for (var gap = 0; gap <= DeliveryOrder.RememberedGaps; gap++)
        {
            // Each round skips one position, and gives it up.
            order.Accept(next + 1);
            order.Clock.Advance(DeliveryOrder.GapTimeout);
            next += 2;
        }

        Assert.Equal(DeliveryOrder.RememberedGaps + 1, order.Lost.Count);
        var applied = order.Applied.Count;

        order.Accept(2); // the oldest gap, forgotten
        Assert.Equal(applied, order.Applied.Count);

        order.Accept(4); // the second oldest, remembered
        Assert.Equal(4, order.Applied[^1]);
    }

    [Fact]
    public void ANewChain_FirstAppliesWhatWaitsOfTheOld_NamingTheGapBeforeItAsLost_ThenStartsFromOne_AndTheOldChainStillComesThrough()
    {
        var order = new Recorder();
        order.Accept(1, 3);

        order.Accept(Delivery(chain: 8, position: 1));
        Assert.Equal([(7L, 1L), (7, 3), (8, 1)], order.AppliedWithChain);
        Assert.Equal([(Next: 3L, Count: 1L)], order.Lost);

        // The old chain is retired: what still comes of it is applied as it comes.
        order.Accept(Delivery(chain: 7, position: 2));
        order.Accept(Delivery(chain: 8, position: 2));
        Assert.Equal([(7L, 1L), (7, 3), (8, 1), (7, 2), (8, 2)], order.AppliedWithChain);
    }

    [Fact]
    public void TheGroupComesBack_WhileMessagesOfItsOldChainWaitForOneThatDiedWithIt_WhatItSendsAgainGoesInItsPlace_NothingLostOrTwice()
    {
        var order = new Recorder();
        order.Accept(Message(Chain, 1, "old", 1));
        order.Accept(Message(Chain, 2, "old", 2));
        order.Accept(Message(Chain, 4, "old", 4)); // 3 never comes: it was on its way when the group's node died
        order.Accept(Message(Chain, 5, "old", 5));
        Assert.Equal([1, 2], order.AppliedSequences);
        Assert.Equal(new GroupPosition("old", 2), order.Order.Applied); // what the new activation is told

        // The new activation sends again what the senders kept after 2, then its epoch, then its first message.
        order.Accept(Message(8, 1, "old", 3) with { Kind = DeliveryKind.Resent });
        order.Accept(Message(8, 2, "old", 4) with { Kind = DeliveryKind.Resent });
        order.Accept(Message(8, 3, "old", 5) with { Kind = DeliveryKind.Resent });
        order.Accept(Message(8, 4, "new", 0) with { Kind = DeliveryKind.Started });
        order.Accept(Message(8, 5, "new", 1));

        Assert.Equal([1, 2, 3, 4, 5, 1], order.AppliedSequences);
        Assert.Equal(new GroupPosition("new", 1), order.Order.Applied);
        Assert.Empty(order.Lost);
    }

    [Fact]
    public void TheGroupComesBack_SendingAgainOnlyALaterOne_WhatWaitsOfTheOldChainGoesBeforeIt_AndOnlyWhatNobodyHasIsLost()
    {
        var order = new Recorder();
        order.Accept(Message(Chain, 1, "old", 1));
        order.Accept(Message(Chain, 3, "old", 3)); // 2 died on its way; 3 and 4 wait for it
        order.Accept(Message(Chain, 4, "old", 4));

        order.Accept(Message(8, 1, "old", 5) with { Kind = DeliveryKind.Resent }); // only 5 was kept by its sender
        order.Accept(Message(8, 2, "new", 0) with { Kind = DeliveryKind.Started });

        Assert.Equal([1, 3, 4, 5], order.AppliedSequences);
        Assert.Equal([(After: 1L, Count: 1L)], order.LostAfter);
    }

    [Fact]
    public void TheGroupComesBack_AndTheOriginalThatTheOldChainWaitedForComesLate_ItGoesInItsPlace_NothingNamedAsLost()
    {
        var order = new Recorder();
        order.Accept(Message(Chain, 1, "old", 1));
        order.Accept(Message(Chain, 2, "old", 2));
        order.Accept(Message(Chain, 4, "old", 4)); // 3 is late; 4 and 5 wait for it
        order.Accept(Message(Chain, 5, "old", 5));

        // The new chain's second delivery comes first: the old chain is retired, its waiting messages kept.
        order.Accept(Message(8, 2, "new", 1));
        Assert.Equal([1, 2], order.AppliedSequences);

        // 3 comes after all, on the retired chain: it goes in its place, and those waiting for it after it.
        order.Accept(Message(Chain, 3, "old", 3));
        Assert.Equal([1, 2, 3, 4, 5], order.AppliedSequences);
        order.Accept(Message(8, 1, "new", 0) with { Kind = DeliveryKind.Started });
        Assert.Equal([1, 2, 3, 4, 5, 1], order.AppliedSequences);
        Assert.Empty(order.Lost);
    }

    [Fact]
    public void TheGroupComesBack_SendingNothingAgain_WhatWaitsOfTheOldChainGoesBeforeItsFirst_TheGapNamedAsLost()
    {
        var order = new Recorder();
        order.Accept(Message(Chain, 1, "old", 1));
        order.Accept(Message(Chain, 2, "old", 2));
        order.Accept(Message(Chain, 4, "old", 4));

        order.Accept(Message(8, 1, "new", 0) with { Kind = DeliveryKind.Started });
        order.Accept(Message(8, 2, "new", 1));

        Assert.Equal([1, 2, 4, 1], order.AppliedSequences);
        Assert.Equal([(After: 2L, Count: 1L)], order.LostAfter);
        Assert.Equal(new GroupPosition("new", 1), order.Order.Applied);
    }

    [Fact]
    public void Unordered_ChainZero_IsAppliedAsItComes()
    {
        var order = new Recorder();

        order.Accept(Delivery(chain: 0, position: 0));
        order.Accept(Delivery(chain: 0, position: 0));

        Assert.Equal(2, order.Applied.Count);
    }

    [Fact]
    public void Resent_AfterTheLastOfItsEpochAppliedHere_IsAppliedAsAMessage_AndItsLateOriginalIsADuplicate()
    {
        var order = new Recorder();
        order.Accept(Message(Chain, 1, "old", 1));
        order.Accept(Message(Chain, 2, "old", 2));
        order.Accept(Message(Chain, 3, "old", 3));
        Assert.Equal(new GroupPosition("old", 3), order.Order.Applied);

        // The group came back on a new chain: message 4 of the old epoch sent again, then the new epoch's first.
        order.Accept(Message(8, 1, "old", 4) with { Kind = DeliveryKind.Resent });
        order.Accept(Message(8, 2, "new", 1));
        Assert.Equal([1, 2, 3, 4, 1], order.AppliedSequences);
        Assert.All(order.AppliedKinds, kind => Assert.Equal(DeliveryKind.Message, kind));

        // The original of 4, on the dead activation's chain, comes after all: a duplicate.
        order.Accept(Message(Chain, 4, "old", 4));
        Assert.Equal([1, 2, 3, 4, 1], order.AppliedSequences);
        Assert.Equal(new GroupPosition("new", 1), order.Order.Applied);
        Assert.Empty(order.Lost);
    }

    [Fact]
    public void Resent_ThatThisGatewayHasAlready_OrOfAnotherEpoch_IsDropped()
    {
        var order = new Recorder();
        order.Accept(Message(Chain, 1, "old", 1));
        order.Accept(Message(Chain, 2, "old", 2));

        order.Accept(Message(8, 1, "old", 2) with { Kind = DeliveryKind.Resent });
        order.Accept(Message(8, 2, "older", 3) with { Kind = DeliveryKind.Resent });
        order.Accept(Message(8, 3, "new", 1));

        Assert.Equal([1, 2, 1], order.AppliedSequences);
        Assert.Empty(order.Lost);
    }

    [Fact]
    public void Resent_WithMessagesBeforeItThatNobodyKept_ThoseCountAsLost_AndItIsApplied()
    {
        var order = new Recorder();
        order.Accept(Message(Chain, 1, "old", 1));

        order.Accept(Message(8, 1, "old", 4) with { Kind = DeliveryKind.Resent });

        Assert.Equal([1, 4], order.AppliedSequences);
        Assert.Equal([(After: 1L, Count: 2L)], order.LostAfter);
    }

    [Fact]
    public void Applied_IsWhereTheGroupStoodAtTheJoin_UntilAMessageIsApplied()
    {
        var order = new Recorder();
        Assert.Null(order.Order.Applied);

        order.Order.Seed(new GroupPosition("e", 5));
        order.Order.Seed(new GroupPosition("e", 9));
        Assert.Equal(new GroupPosition("e", 5), order.Order.Applied);

        // Joined at 5: a message 6 sent again is the next one, and nothing is lost before it.
        order.Accept(Message(Chain, 1, "e", 6) with { Kind = DeliveryKind.Resent });
        Assert.Equal([6], order.AppliedSequences);
        Assert.Equal(new GroupPosition("e", 6), order.Order.Applied);
        Assert.Empty(order.Lost);
    }

    [Fact]
    public void Started_IsWhereTheGroupStands_SoThatAMessageOfItsEpochSentAgainLaterIsApplied()
    {
        var order = new Recorder();
        order.Accept(Message(Chain, 1, "old", 57));

        // The group came back (epoch "mid") and told this gateway; none of its messages reached it before it died too.
        order.Accept(Message(8, 1, "mid", 0) with { Kind = DeliveryKind.Started });
        Assert.Equal(new GroupPosition("mid", 0), order.Order.Applied);
        Assert.Equal([57], order.AppliedSequences);

        // Its next activation sends mid's messages again: this gateway has none of them.
        order.Accept(Message(9, 1, "mid", 1) with { Kind = DeliveryKind.Resent });
        order.Accept(Message(9, 2, "mid", 2) with { Kind = DeliveryKind.Resent });
        Assert.Equal([57, 1, 2], order.AppliedSequences);

        // A Started of the epoch it follows already changes nothing.
        order.Accept(Message(9, 3, "mid", 0) with { Kind = DeliveryKind.Started });
        Assert.Equal(new GroupPosition("mid", 2), order.Order.Applied);
        Assert.Empty(order.Lost);
    }

    private static Delivery Message(long chain, long position, string epoch, long sequence) =>
        new("RealtimeHub", DeliveryTarget.Room, "room", sequence, null, null, Chain: chain, Position: position, Epoch: epoch);

    private static Delivery Delivery(long chain, long position) =>
        new("RealtimeHub", DeliveryTarget.Room, "room", position, null, null, Chain: chain, Position: position);

    /// <summary>A delivery order over a manual clock that records what it applies and what it gives up.</summary>
    private sealed class Recorder
    {
        private readonly DeliveryOrder _order;

        public Recorder(Func<Delivery, long, Task<IReadOnlyList<Delivery>?>>? fill = null) => _order = new DeliveryOrder(
            delivery =>
            {
                AppliedWithChain.Add((delivery.Chain, delivery.Position));
                AppliedSequences.Add(delivery.Sequence);
                AppliedKinds.Add(delivery.Kind);
            },
            (next, count, after) =>
            {
                Lost.Add((next.Position, count));
                LostAfter.Add((after, count));
            },
            Clock,
            fill);

        public DeliveryOrder Order => _order;

        public List<DeliveryKind> AppliedKinds { get; } = [];

        /// <summary>Each give-up: the sequence number of the last message applied before it, and how many positions were given up.</summary>
        public List<(long After, long Count)> LostAfter { get; } = [];

        /// <summary>The sequence numbers applied, in order (a delivery filled from history has no position of its own).</summary>
        public List<long> AppliedSequences { get; } = [];

        public ManualTimeProvider Clock { get; } = new();

        public List<(long Chain, long Position)> AppliedWithChain { get; } = [];

        public List<long> Applied => [.. AppliedWithChain.Select(a => a.Position)];

        /// <summary>Each give-up: the position that went on, and how many before it were given up.</summary>
        public List<(long Next, long Count)> Lost { get; } = [];

        public void Accept(params long[] positions)
        {
            foreach (var position in positions)
            {
                _order.Accept(Delivery(Chain, position));
            }
        }

        public void Accept(Delivery delivery) => _order.Accept(delivery);
    }
}
