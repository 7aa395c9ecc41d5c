namespace Realtime.Gateway.Core;

/// <summary>Where a client was in a room (or its namespace, <see cref="Room"/> null): the last message it got.</summary>
public sealed record ResumePosition(string? Room, string Epoch, long Seq);

/// <summary>
/// What a resume did: whether the old session was taken back (<see cref="Recovered"/>), the rooms the connection is
/// in now, how many missed messages were replayed, and where a replay was not possible: <see cref="Lost"/> (the
/// room's history no longer holds everything missed, or the room came back after its silo died) and
/// <see cref="NoPosition"/> (the client named no position for the room, so what it missed is unknown).
/// </summary>
public sealed record ResumeResult(bool Recovered, IReadOnlyList<string> Rooms, int Replayed, IReadOnlyList<string> Lost, IReadOnlyList<string> NoPosition);
