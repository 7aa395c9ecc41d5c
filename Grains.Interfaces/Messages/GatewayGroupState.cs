namespace Realtime.Contracts;

/// <summary>
/// A message that a gateway sent to a group, and the group took (<see cref="IMemberGroupGrain.Send"/>, or a hub's
/// <see cref="IGatewayRegistryGrain.Send"/>): where the group numbered it, and what it was.
/// </summary>
[GenerateSerializer, Immutable, Alias("realtime.sent-message")]
public sealed record SentMessage([property: Id(0)] GroupPosition At, [property: Id(1)] Publication Publication);

/// <summary>
/// What one gateway holds of one group (room, namespace or user; or the hub, with no members), as a group's new
/// activation asks it (<see cref="IGatewayService.GroupState"/>).
/// </summary>
/// <param name="Members">The gateway's members of the group.</param>
/// <param name="Applied">
/// The last of the group's messages the gateway handed to its members (or where the group stood when its first member
/// here joined); null when it knows of none.
/// </param>
/// <param name="Sent">
/// The messages the gateway sent to the group lately, that the group took: those the group's earlier activation may
/// not have delivered everywhere when its silo died.
/// </param>
[GenerateSerializer, Immutable, Alias("realtime.gateway-group-state")]
public sealed record GatewayGroupState(
    [property: Id(0)] IReadOnlyList<Member> Members,
    [property: Id(1)] GroupPosition? Applied,
    [property: Id(2)] IReadOnlyList<SentMessage> Sent);
