using System.Text;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;
using Realtime.Grains.Groups;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Grains;

/// <summary>
/// A room's history, on its own: it keeps as many messages and for as long as <c>History</c> allows, 0 turns it off,
/// and a replay it cannot make whole says so instead of handing back what is left.
/// </summary>
public sealed class MessageHistoryTests
{
    private const string Epoch = "e1";

    [Fact]
    public void TheCountLimit_KeepsTheLatest_AndAReplayFromBeforeThemIsIncomplete()
    {
        var history = new MessageHistory(new HistoryOptions { MaxMessages = 3 }, new ManualTimeProvider());
        AddUpTo(history, 5);

        var recent = history.Since(Epoch, 2, Epoch, 5);
        Assert.True(recent.Complete);
        Assert.Equal([3L, 4L, 5L], recent.Messages.Select(m => m.Sequence));

        Assert.False(history.Since(Epoch, 1, Epoch, 5).Complete);
        Assert.Equal(3, history.Count);
    }

    [Fact]
    public void TheAgeLimit_DropsOldMessages_AndAReplayThatNeedsThemIsIncomplete()
    {
        var time = new ManualTimeProvider();
        var history = new MessageHistory(new HistoryOptions { MaxMessages = 100, MaxAge = TimeSpan.FromSeconds(10) }, time);
        AddUpTo(history, 2);
        time.Advance(TimeSpan.FromSeconds(8));
        history.Add(Entry(3));
        time.Advance(TimeSpan.FromSeconds(3));

        Assert.False(history.Since(Epoch, 0, Epoch, 3).Complete);
        var fromTwo = history.Since(Epoch, 2, Epoch, 3);
        Assert.True(fromTwo.Complete);
        Assert.Equal([3L], fromTwo.Messages.Select(m => m.Sequence));
    }

    [Theory]
    [InlineData(0, 120)]
    [InlineData(100, 0)]
    public void ZeroTurnsItOff_NothingIsKept_AndEveryReplayIsIncomplete(int maxMessages, int maxAgeSeconds)
    {
        var history = new MessageHistory(new HistoryOptions { MaxMessages = maxMessages, MaxAge = TimeSpan.FromSeconds(maxAgeSeconds) }, new ManualTimeProvider());
        AddUpTo(history, 3);

        Assert.Equal(0, history.Count);
        Assert.False(history.Since(Epoch, 2, Epoch, 3).Complete);
    }

    [Fact]
    public void AnotherEpoch_TheGroupCameBackAfterItsSiloDied_IsIncomplete_NeverAGap()
    {
        var history = new MessageHistory(new HistoryOptions(), new ManualTimeProvider());
        AddUpTo(history, 3);

        Assert.True(history.Since(Epoch, 1, Epoch, 3).Complete);
        Assert.False(history.Since("the-epoch-before", 1, Epoch, 3).Complete);
        Assert.False(history.Since(Epoch, 7, Epoch, 3).Complete);
    }

    private static void AddUpTo(MessageHistory history, long last)
    {
        for (var sequence = 1L; sequence <= last; sequence++)
        {
            history.Add(Entry(sequence));
        }
    }

    private static HistoryEntry Entry(long sequence) =>
        new(sequence, new SerializedPayload([new ProtocolPayload("json", Encoding.UTF8.GetBytes($"m{sequence}"))]));
}
