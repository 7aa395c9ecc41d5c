namespace Realtime.Contracts;

/// <summary>Which local connections of a gateway a <see cref="Delivery"/> is for.</summary>
[GenerateSerializer, Alias("realtime.delivery-target")]
public enum DeliveryTarget : byte
{
    /// <summary>Every connection of the hub.</summary>
    Hub,
    /// <summary>The connections of one namespace.</summary>
    Namespace,
    /// <summary>The members of one room.</summary>
    Room,
    /// <summary>The connections of one user.</summary>
    User,
    /// <summary>One connection; <see cref="Delivery.Key"/> is its connection id.</summary>
    Connection,
}

/// <summary>What a <see cref="Delivery"/> tells its gateway.</summary>
[GenerateSerializer, Alias("realtime.delivery-kind")]
public enum DeliveryKind : byte
{
    /// <summary>A message for the local recipients.</summary>
    Message,
    /// <summary>
    /// <see cref="Delivery.Connection"/> left the room: it gets nothing the room sends after this (everything before
    /// reached it).
    /// </summary>
    MemberLeft,
    /// <summary>The room was closed: its local members leave it and are told.</summary>
    Closed,

    /// <summary>
    /// A message of the group's previous activation, sent again by the new one (its silo died), to a gateway that did
    /// not say it had it: <see cref="Delivery.Epoch"/> and <see cref="Delivery.Sequence"/> are where the previous
    /// activation numbered it. The gateway applies it unless it has it already, after the last message of that epoch
    /// it applied; only gateways that read it are sent one (see <see cref="IGatewayService.GroupState"/>).
    /// </summary>
    Resent,

    /// <summary>
    /// The group's new activation numbers its messages in <see cref="Delivery.Epoch"/> from now: the gateway takes it for
    /// where the group stands (before its first message) unless it applied a message of that epoch already, so that
    /// it can say so if this activation dies too (see <see cref="IGatewayService.GroupState"/>). Sent after any
    /// <see cref="Resent"/>; a gateway of an earlier version ignores it, as any notice it does not know.
    /// </summary>
    Started,
}

/// <summary>
/// What a grain pushes to a gateway: one per gateway that holds recipients, whatever their number there.
/// </summary>
/// <param name="Hub">The hub the recipients are connected to.</param>
/// <param name="Target">What kind of group <paramref name="Key"/> names.</param>
/// <param name="Key">The grain key of the group (see <see cref="GrainKeys"/>), or the connection id.</param>
/// <param name="Sequence">Per-publisher sequence number: every recipient sees one publisher's messages in this order.</param>
/// <param name="Payload">The serialized message; null for a notice (<see cref="Kind"/> other than a message).</param>
/// <param name="Except">Connection ids that must not receive it.</param>
/// <param name="Rooms">
/// When set, only the recipients that the receiving gateway knows to be in one of its rooms, and in none of its
/// excluded rooms, get the payload: socket.io's <c>to(rooms).except(rooms)</c>, where a connection in several of
/// the rooms receives the message once.
/// </param>
/// <param name="Chain">
/// Names what one activation of the group sends to this gateway while the gateway holds members there: a new chain
/// starts when the gateway's first member joins, and when the group is activated again. 0: not ordered.
/// </param>
/// <param name="Position">
/// The delivery's place in its chain, from 1 with no gaps: Orleans does not promise that one-way calls arrive in the
/// order they were made, so the gateway puts them back in this order.
/// </param>
/// <param name="Kind">A message, or a notice about the group.</param>
/// <param name="Connection">For <see cref="DeliveryKind.MemberLeft"/>: the connection that left.</param>
/// <param name="Epoch">
/// The activation of the group (or of the hub's grain) that numbered the delivery, which its sequence numbers belong
/// to (see <see cref="IMemberGroupGrain.Since"/>).
/// </param>
[GenerateSerializer, Immutable, Alias("realtime.delivery")]
public sealed record Delivery(
    [property: Id(0)] string Hub,
    [property: Id(1)] DeliveryTarget Target,
    [property: Id(2)] string Key,
    [property: Id(3)] long Sequence,
    [property: Id(4)] SerializedPayload? Payload,
    [property: Id(5)] IReadOnlyList<string>? Except,
    [property: Id(6)] RoomFilter? Rooms = null,
    [property: Id(7)] long Chain = 0,
    [property: Id(8)] long Position = 0,
    [property: Id(9)] DeliveryKind Kind = DeliveryKind.Message,
    [property: Id(10)] string? Connection = null,
    [property: Id(11)] string? Epoch = null);
