namespace Realtime.Contracts;

/// <summary>
/// A message from a group's history: its sequence number, its payload, and who it left out, as the publication said
/// (<see cref="Publication.Except"/>, <see cref="Publication.Rooms"/>); a replay leaves the same recipients out. A
/// client's event in a namespace whose events are streamed keeps what the stream carried (<see cref="Source"/>, and
/// when the group took it), so that a consumer of the stream can fetch one it missed (<c>ClientEventFeed</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("realtime.history-entry")]
public sealed record HistoryEntry(
    [property: Id(0)] long Sequence,
    [property: Id(1)] SerializedPayload Payload,
    [property: Id(2)] IReadOnlyList<string>? Except = null,
    [property: Id(3)] RoomFilter? Rooms = null,
    [property: Id(4)] ClientEventSource? Source = null,
    [property: Id(5)] DateTimeOffset Time = default);

/// <summary>
/// What a group answers a client that asks for the messages after a position: <see cref="Complete"/> when its
/// history holds every one of them (then <see cref="Messages"/> are they, in order, up to <see cref="UpTo"/>), and
/// false when some are gone (aged out, or the group came back with a new <see cref="Epoch"/> after its silo died):
/// never a silent gap. A session grain answers the same way for the messages sent to its connection alone.
/// </summary>
[GenerateSerializer, Immutable, Alias("realtime.replay")]
public sealed record Replay(
    [property: Id(0)] bool Complete,
    [property: Id(1)] string Epoch,
    [property: Id(2)] long UpTo,
    [property: Id(3)] IReadOnlyList<HistoryEntry> Messages);
