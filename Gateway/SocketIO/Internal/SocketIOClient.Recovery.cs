using System.Text.Json;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.SocketIO.Engine;

namespace Realtime.Gateway.SocketIO.Internal;

/// <summary>
/// Connection state recovery's lookup: the session a reconnecting client names in its CONNECT, claimed, and the plan
/// of what it missed. The CONNECT itself is answered in <c>SocketIOClient.cs</c>.
/// </summary>
internal sealed partial class SocketIOClient
{
    /// <summary>Between a socket id and the secret in a private session id (<c>pid</c>).</summary>
    private const char PidSeparator = '.';

    private sealed record RecoveredSession(string SocketId, RecoveryPlan Plan);

    /// <summary>
    /// Recovers the session a client names in its CONNECT (<c>pid</c> and <c>offset</c>, as socket.io-client sends
    /// them after a reconnect); null when there is none to recover, and the socket starts afresh.
    /// </summary>
    private async Task<RecoveredSession?> TryRecoverAsync(string name, JsonElement? auth, string? userId)
    {
        if (auth is not { ValueKind: JsonValueKind.Object } presented
            || !presented.TryGetProperty("pid", out var pidValue) || pidValue.ValueKind != JsonValueKind.String
            || !presented.TryGetProperty("offset", out var offsetValue) || offsetValue.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var pid = pidValue.GetString()!;
        var separator = pid.IndexOf(PidSeparator);
        var socketId = separator > 0 ? pid[..separator] : "";
        var token = separator > 0 ? pid[(separator + 1)..] : "";
        var offset = RecoveryOffset.Decode(offsetValue.GetString()!);
        if (!SocketIONamespace.CouldBeSocketId(socketId) || token.Length == 0 || offset is null)
        {
            EngineLog.NotRecovered(_logger, _engine.Id, "the private id or the offset is not one this cluster made");
            return null;
        }

        // The old socket may still be here (the client came back before this gateway saw it go): it goes first, so
        // that its cleanup cannot undo the new connection's registrations under the same id.
        if (_server.LocalSocket(socketId) is { } old)
        {
            old.Drop("transport close");
            await old.Gone.WaitAsync(TimeSpan.FromSeconds(10));
        }

        SessionRecovery? claimed;
        RecoveryPlan? plan;
        try
        {
            claimed = await _server.Hub.ClaimRecoveryAsync(socketId, token, userId);
            if (claimed is null)
            {
                EngineLog.NotRecovered(_logger, socketId, "no such session: past its window, already taken, or lost with its silo");
                return null;
            }

            plan = await _server.Hub.PlanRecoveryAsync(socketId, name, claimed, offset.Own, offset.Of);
        }
        catch
        {
            // The cluster failed while the session was claimed (perhaps after the claim was made) or its plan was made:
            // the session goes back, for the client's next try.
            _server.Hub.GiveBackRecovery(socketId);
            throw;
        }

        if (plan is null)
        {
            EngineLog.NotRecovered(_logger, socketId, "history no longer holds everything the client missed");
            await _server.Hub.ForgoRecoveryAsync(socketId);
            return null;
        }

        return new RecoveredSession(socketId, plan);
    }
}
