using System.Text;
using System.Text.Json;
using Realtime.Client.Streams;
using Realtime.Contracts;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Core;

/// <summary>
/// What a consumer of a namespace's client-event stream gets through <see cref="ClientEventFeed"/>: each room's events
/// once and in order, those the stream lost read from the room's history, and a gap named only when the history no
/// longer holds it. The room is the fake cluster's, whose history keeps what it was told.
/// </summary>
public sealed class ClientEventFeedTests
{
    private readonly FakeCluster _cluster = new();
    private readonly List<long> _delivered = [];
    private readonly List<ClientEventGap> _gaps = [];

    [Fact]
    public async Task EventsTheStreamLost_AreReadFromTheRoomsHistory_InOrder_AServicesMessageIsPassedOver_AndARepeatIsDropped()
    {
        var feed = Feed();
        await PublishAsync(clientEvents: [1, 2, 4, 5], serviceMessages: [3]);

        await feed.OnNextAsync(Event(1)).Within("the first event");
        await feed.OnNextAsync(Event(5)).Within("an event after a jump"); // 2 and 4 were lost on the way; 3 was a service's

        Assert.Equal([1, 2, 4, 5], _delivered);
        await feed.OnNextAsync(Event(4)).Within("a repeat");
        Assert.Equal([1, 2, 4, 5], _delivered);
        Assert.Empty(_gaps);
    }

    [Fact]
    public async Task EventsTheHistoryNoLongerHolds_AreNamedAsAGap_AndTheNextGoesOn()
    {
        var feed = Feed();
        await PublishAsync(clientEvents: [1, 2, 3, 4], serviceMessages: []);
        await feed.OnNextAsync(Event(1)).Within("the first event");
        Room.HistoryLost = true;

        await feed.OnNextAsync(Event(4)).Within("an event after a jump");

        Assert.Equal([1, 4], _delivered);
        Assert.Equal([new ClientEventGap(nameof(CoreTestHub), "/chat", "lobby", Room.Epoch, 2, 3)], _gaps);
    }

    [Fact]
    public async Task ARoomThatCameBack_ItsNewEpochsEventsBeforeTheFirstOneSeen_AreReadFromItsHistory_AndALateOneOfTheOldEpochIsDeliveredOnce()
    {
        var feed = Feed();
        await PublishAsync(clientEvents: [1, 2], serviceMessages: []);
        var old = Room.Epoch;
        await feed.OnNextAsync(Event(1)).Within("the first event");
        Room.Restart(); // its silo died: 2 of the old epoch is on its way still
        await PublishAsync(clientEvents: [1, 2, 3], serviceMessages: []);

        await feed.OnNextAsync(Event(3)).Within("the new epoch's third event"); // its 1 and 2 were lost on the way
        await feed.OnNextAsync(Event(2, old)).Within("the old epoch's late event");
        await feed.OnNextAsync(Event(2, old)).Within("the same again");

        Assert.Equal([1, 1, 2, 3, 2], _delivered);
        Assert.Empty(_gaps);
    }

    private FakeRoom Room => _cluster.Room("/chat", "lobby");

    private ClientEventFeed Feed() => new(
        _cluster,
        e =>
        {
            _delivered.Add(e.Sequence);
            Assert.Equal($"said {e.Sequence}", e.Data.GetString());
            return Task.CompletedTask;
        },
        gap =>
        {
            _gaps.Add(gap);
            return Task.CompletedTask;
        });

    /// <summary>Publishes to the room, in sequence order, client events and a service's messages.</summary>
    private async Task PublishAsync(long[] clientEvents, long[] serviceMessages)
    {
        foreach (var sequence in clientEvents.Concat(serviceMessages).Order())
        {
            var payload = new SerializedPayload([new ProtocolPayload("json", Encoding.UTF8.GetBytes($"{{\"n\":{sequence}}}"))]);
            var source = clientEvents.Contains(sequence) ? new ClientEventSource("/chat", "c1", "said", Data(sequence)) : null;
            Assert.Equal(sequence, await Room.Publish(new Publication(payload, Source: source)).Within("a publish"));
        }
    }

    private ClientEvent Event(long sequence, string? epoch = null) =>
        new(nameof(CoreTestHub), "/chat", "lobby", "c1", sequence, "said", Data(sequence), DateTimeOffset.UnixEpoch, epoch ?? Room.Epoch);

    private static JsonElement Data(long sequence) => JsonSerializer.SerializeToElement($"said {sequence}");
}
