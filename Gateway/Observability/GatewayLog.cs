using Realtime.Contracts;

namespace Realtime.Gateway.Observability;

internal static partial class GatewayLog
{
    [LoggerMessage(1, LogLevel.Debug, "Connection {ConnectionId} connected to {Hub}{Namespace}.")]
    public static partial void Connected(ILogger logger, string connectionId, string hub, string @namespace);

    [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId} refused: {Reason}")]
    public static partial void Refused(ILogger logger, string connectionId, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Cleaning up connection {ConnectionId} after it disconnected failed.")]
    public static partial void CleanupFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "Writing to connection {ConnectionId} failed.")]
    public static partial void WriteFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "A delivery for hub {Hub}, which this gateway does not serve, was dropped.")]
    public static partial void UnknownHub(ILogger logger, string hub);

    [LoggerMessage(6, LogLevel.Information, "Gateway {GatewayId} serves hub {Hub}.")]
    public static partial void HubRegistered(ILogger logger, string gatewayId, string hub);

    [LoggerMessage(8, LogLevel.Information, "Registering connection {ConnectionId} with the cluster failed (attempt {Attempt}); trying again.")]
    public static partial void RegistrationRetried(ILogger logger, string connectionId, int attempt, Exception exception);

    [LoggerMessage(40, LogLevel.Information, "Connection {ConnectionId} joining {Room} failed (attempt {Attempt}); trying again.")]
    public static partial void JoinRetried(ILogger logger, string connectionId, string room, int attempt, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Telling hub {Hub} that this gateway serves it failed; trying again.")]
    public static partial void HubRegistrationFailed(ILogger logger, string hub, Exception exception);

    [LoggerMessage(10, LogLevel.Warning, "{Count} delivery(ies) of {Target} {Key} did not arrive in time, and its history could not give them: they count as lost, its local members are told, and the later ones go on.")]
    public static partial void DeliveriesLost(ILogger logger, long count, DeliveryTarget target, string key);

    [LoggerMessage(36, LogLevel.Information, "{Count} message(s) of {Target} {Key} that did not arrive were read from its history and delivered in their place.")]
    public static partial void DeliveriesFilled(ILogger logger, int count, DeliveryTarget target, string key);

    [LoggerMessage(9, LogLevel.Warning, "{Count} send(s) of connection {ConnectionId} that its client did not wait for failed; the messages did not reach their recipients.")]
    public static partial void PipelinedSendFailed(ILogger logger, string connectionId, int count, Exception exception);

    [LoggerMessage(11, LogLevel.Information, "Refused a request to {Path} from origin {Origin} (Gateway:AllowedOrigins).")]
    public static partial void OriginRefused(ILogger logger, string origin, string path);

    [LoggerMessage(12, LogLevel.Warning, "Connection {ConnectionId} is closed: its client reads too slowly (more than {MaxBufferedBytes} bytes waited to be written to it, Gateway:MaxBufferedBytes).")]
    public static partial void SlowConsumer(ILogger logger, string connectionId, long maxBufferedBytes);

    [LoggerMessage(13, LogLevel.Warning, "Connection {ConnectionId} is closed: it went on sending over its rate limit (Gateway:RateLimit).")]
    public static partial void Flooding(ILogger logger, string connectionId);

    [LoggerMessage(14, LogLevel.Warning, "Refused a new connection: the gateway holds {Connections} of at most {MaxConnections} (Gateway:MaxConnections).")]
    public static partial void TooManyConnections(ILogger logger, int connections, int maxConnections);

    [LoggerMessage(37, LogLevel.Information, "A silo was declared dead: calling the {Count} group(s) this gateway sent messages to lately, so that those whose grain lived there come back and send again what did not reach every gateway.")]
    public static partial void WakingSentGroups(ILogger logger, int count);

    [LoggerMessage(38, LogLevel.Warning, "Calling group {Group} after a silo died failed; it comes back at its next call.")]
    public static partial void WakingSentGroupFailed(ILogger logger, string group, Exception exception);

    [LoggerMessage(39, LogLevel.Debug, "Calling group {Group} after a silo died failed (attempt {Attempt}); trying again.")]
    public static partial void WakingSentGroupRetried(ILogger logger, string group, int attempt, Exception exception);

    [LoggerMessage(41, LogLevel.Debug, "Connection {ConnectionId} gave no answer to {Method} asked for several clients at once; the asker counts it as missing.")]
    public static partial void NoAnswerFromClient(ILogger logger, string connectionId, string method, Exception exception);
}
