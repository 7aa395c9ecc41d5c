using System.Text.Json;
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
[Reentrant] // no state; a broadcast waiting for its acknowledgements must not hold up the next call
internal sealed partial class ConnectionsGrain(GatewayDirectory gateways, ILogger<ConnectionsGrain> logger) : Grain, IConnectionsGrain
{
    public async Task<int> Act(IReadOnlyList<Member> members, ConnectionAction action)
    {
        var hub = this.GetPrimaryKeyString();
        var done = await Task.WhenAll(ByGateway(members).Select(g => ActOnAsync(hub, g.GatewayId, g.ConnectionIds, action)));
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

    public async Task<IReadOnlyList<JsonElement>> InvokeClients(IReadOnlyList<Member> members, string method, JsonElement[] args, TimeSpan timeout)
    {
        var hub = this.GetPrimaryKeyString();
        var answers = await Task.WhenAll(ByGateway(members).Select(g => InvokeOnAsync(hub, g.GatewayId, g.ConnectionIds, method, args, timeout)));
        return [.. answers.SelectMany(static a => a)];
    }

    /// <summary>The members' connection ids by the gateway that holds them.</summary>
    private static IEnumerable<(string GatewayId, string[] ConnectionIds)> ByGateway(IReadOnlyList<Member> members) =>
        members.GroupBy(static m => m.GatewayId, StringComparer.Ordinal).Select(static g => (g.Key, g.Select(static m => m.ConnectionId).ToArray()));

    private async Task<IReadOnlyList<JsonElement>> InvokeOnAsync(string hub, string gatewayId, string[] connectionIds, string method, JsonElement[] args, TimeSpan timeout)
    {
        if (gatewayId.Length > 0)
        {
            try
            {
                return await gateways.Of(gatewayId).InvokeClients(hub, connectionIds, method, args, timeout);
            }
            catch (Exception ex)
            {
                // Not asked again through the sessions: the gateway may have called its clients before it failed.
                NoAnswers(logger, method, connectionIds.Length, gatewayId, ex);
                return [];
            }
        }

        var answers = await Task.WhenAll(connectionIds.Select(async id =>
        {
            try
            {
                return (Answered: true, Answer: await GrainFactory.GetGrain<ISessionGrain>(GrainKeys.Session(hub, id)).InvokeClient(method, args, timeout));
            }
            catch (Exception)
            {
                return (Answered: false, Answer: default(JsonElement)); // closed, or did not answer in time
            }
        }));
        return [.. answers.Where(static a => a.Answered).Select(static a => a.Answer)];
    }

    private static Task<bool> ThroughSessionAsync(ISessionGrain session, ConnectionAction action) => action.Kind switch
    {
        ConnectionActionKind.JoinRoom => session.JoinRoom(action.RoomKey!),
        ConnectionActionKind.LeaveRoom => session.LeaveRoom(action.RoomKey!),
        _ => session.Disconnect(),
    };

    [LoggerMessage(126, LogLevel.Warning, "Calling {Method} on {Count} client(s) of gateway {GatewayId} failed; they count as not answering.")]
    private static partial void NoAnswers(ILogger logger, string method, int count, string gatewayId, Exception exception);

    [LoggerMessage(125, LogLevel.Warning, "{Kind} of {Count} connection(s) on gateway {GatewayId} failed there; it is done through their session grains.")]
    private static partial void ThroughSessions(ILogger logger, ConnectionActionKind kind, int count, string gatewayId, Exception exception);
}
