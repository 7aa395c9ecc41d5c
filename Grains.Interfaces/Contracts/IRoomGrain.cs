namespace Realtime.Contracts;

/// <summary>
/// A room of a namespace (key from <see cref="GrainKeys.Room"/>). It keeps its members by gateway and sends each
/// message once to every gateway that holds members, stamped with the room's next sequence number.
/// </summary>
[Alias("realtime.room")]
public interface IRoomGrain : IMemberGroupGrain
{
    /// <summary>
    /// Adds a member; returns where the room stands: the member receives every message after that position (and is
    /// replayed from there when it recovers its session).
    /// </summary>
    [Alias("join")]
    Task<GroupPosition> Join(Member member);

    /// <summary>
    /// Removes a member; returns the member count. The member's gateway hears of it through a
    /// <see cref="DeliveryKind.MemberLeft"/> delivery, after every delivery the room sent it before.
    /// </summary>
    [Alias("leave")]
    Task<int> Leave(Member member);

    /// <summary>
    /// Removes every member, on every gateway, and tells them (a <see cref="DeliveryKind.Closed"/> delivery); returns
    /// how many there were.
    /// </summary>
    [Alias("close")]
    Task<int> Close();
}
