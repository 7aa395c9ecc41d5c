using Orleans.Concurrency;

namespace Realtime.Contracts;

/// <summary>What every grain that keeps connections grouped by gateway (rooms, namespaces, users) offers.</summary>
[Alias("realtime.member-group")]
public interface IMemberGroupGrain : IGatewayDependentGrain
{
    /// <summary>How many members there are, on every gateway, without listing them.</summary>
    [ReadOnly, Alias("member-count")]
    Task<int> MemberCount();

    /// <summary>
    /// The messages after <paramref name="sequence"/> of <paramref name="epoch"/> (the group's activation, as its
    /// deliveries name it), from its history; incomplete when some of them are gone.
    /// </summary>
    [ReadOnly, Alias("since")]
    Task<Replay> Since(string? epoch, long sequence);

    /// <summary>The members, on every gateway.</summary>
    [ReadOnly, Alias("members")]
    Task<IReadOnlyList<Member>> Members();

    /// <summary>
    /// The members with their sessions (namespace, user, rooms, data), on every gateway, each read from the gateway that
    /// holds it: one call per gateway, no session grain woken. A member whose connection closed meanwhile is left out.
    /// The members of a gateway that does not answer are read from their session grains instead, which ask every gateway.
    /// </summary>
    [AlwaysInterleave, Alias("sessions")]
    Task<IReadOnlyList<SessionInfo>> Sessions();

    /// <summary>
    /// Sends the publication to every member but its exceptions: one delivery to each gateway that holds members,
    /// stamped with the group's next sequence number, which it returns.
    /// </summary>
    [Alias("publish")]
    Task<long> Publish(Publication publication);

    /// <summary>
    /// <see cref="Publish"/>, answered only once every gateway with members has taken the delivery (those whose node
    /// left or died meanwhile excepted): how a service (an Orleans client, which keeps nothing to send again) learns
    /// that its send reached every member's gateway, so that a success it is told of cannot die with the group's
    /// node. Other sends to the group go on meanwhile. A gateway of an earlier version than 4 is sent the delivery
    /// without an answer, as <see cref="Publish"/> does.
    /// </summary>
    [AlwaysInterleave, Alias("publish-confirmed")]
    Task<long> PublishConfirmed(Publication publication);

    /// <summary>
    /// <see cref="Publish"/> for several publications, in order, in one call: how a gateway sends what one connection
    /// sent without waiting. Returns the last sequence number.
    /// </summary>
    [Alias("publish-all")]
    Task<long> PublishAll(IReadOnlyList<Publication> publications);

    /// <summary>
    /// <see cref="Publish"/>, answered with the group's epoch beside the sequence number: how a gateway learns where
    /// its message stands, to keep it for a while (see <see cref="IGatewayService.GroupState"/>).
    /// </summary>
    [Alias("send")]
    Task<GroupPosition> Send(Publication publication);

    /// <summary>
    /// <see cref="PublishAll"/>, answered with the position of the last: the publications are numbered one after the
    /// other, with nothing in between.
    /// </summary>
    [Alias("send-all")]
    Task<GroupPosition> SendAll(IReadOnlyList<Publication> publications);

    /// <summary>
    /// Moves the group, whole (members, numbering, history), to <paramref name="silo"/> once it is idle: how a silo that
    /// stops hands its groups over, so that their clients notice nothing.
    /// </summary>
    [Alias("move-to")]
    Task MoveTo(SiloAddress silo);
}
