using Realtime.Contracts;

namespace Realtime.Gateway.Core;

/// <summary>Where a recovered connection takes each of its streams up again: the position its client has.</summary>
/// <param name="Session">What the session grain handed over: rooms, data, join positions.</param>
/// <param name="Streams">Its namespace, each of its rooms and its session: the position to replay after.</param>
internal sealed record RecoveryPlan(SessionRecovery Session, IReadOnlyList<RecoveryStream> Streams);

/// <summary>One stream of a recovery: a room, namespace or session (by grain key), and the position the client has.</summary>
internal readonly record struct RecoveryStream(string Key, DeliveryTarget Target, GroupPosition From);
