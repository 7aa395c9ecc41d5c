using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Realtime.Contracts;

namespace Realtime.Grains.Gateways;

/// <summary>
/// <see cref="IConnectionsGrain"/>: sorts the members by gateway and asks each gateway once
/// (<see cref="IGatewayService.Act"/>); falls back to the members' session grains, which find their connection's gateway
/// themselves, for a gateway that fails.
/// </summary>
[GrainType("connections")]
[StatelessWorker]
internal sealed partial class ConnectionsGrain(GatewayDirectory gateways, ILogger<ConnectionsGrain> logger) : Grain, IConnectionsGrain
{
    public async Task<int> Act(IReadOnlyList<Member> members, ConnectionAction action)
    {
        var hub = this.GetPrimaryKeyString();
        var done = await Task.WhenAll(members.GroupBy(static m => m.GatewayId, StringComparer.Ordinal).Select(g => ActOnAsync(hub, g.Key, [.. g.Select(static m => m.ConnectionId)], action)));
        return done.Sum();
    }

    private async Task<int> ActOnAsync(string hub, string gatewayId, string[] connectionIds, ConnectionAction action)
    {
        if (gatewayId.Length > 0)
        {
            try
            {
                return await gateways.Of(gatewayId).Act(hub, connectionIds, action);
            }
            catch (Exception ex)
            {
                ThroughSessions(logger, action.Kind, connectionIds.Length, gatewayId, ex);
            }
        }

        var done = await Task.WhenAll(connectionIds.Select(id => ThroughSessionAsync(GrainFactory.GetGrain<ISessionGrain>(GrainKeys.Session(hub, id)), action)));
        return done.Count(static d => d);
    }

    private static Task<bool> ThroughSessionAsync(ISessionGrain session, ConnectionAction action) => action.Kind switch
    {
        ConnectionActionKind.JoinRoom => session.JoinRoom(action.RoomKey!),
        ConnectionActionKind.LeaveRoom => session.LeaveRoom(action.RoomKey!),
        _ => session.Disconnect(),
    };

    [LoggerMessage(125, LogLevel.Warning, "{Kind} of {Count} connection(s) on gateway {GatewayId} failed there; it is done through their session grains.")]
    private static partial void ThroughSessions(ILogger logger, ConnectionActionKind kind, int count, string gatewayId, Exception exception);
}
