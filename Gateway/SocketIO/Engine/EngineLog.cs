namespace Realtime.Gateway.SocketIO.Engine;

internal static partial class EngineLog
{
    [LoggerMessage(101, LogLevel.Debug, "Engine.IO session {Sid} opened on {Transport}.")]
    public static partial void Opened(ILogger logger, string sid, string transport);

    [LoggerMessage(102, LogLevel.Debug, "Engine.IO session {Sid} closed: {Reason}.")]
    public static partial void Closed(ILogger logger, string sid, string reason);

    [LoggerMessage(103, LogLevel.Debug, "Engine.IO session {Sid} upgraded to WebSocket.")]
    public static partial void Upgraded(ILogger logger, string sid);

    [LoggerMessage(104, LogLevel.Debug, "Upgrading Engine.IO session {Sid} failed: {Reason}")]
    public static partial void UpgradeFailed(ILogger logger, string sid, string reason);

    [LoggerMessage(105, LogLevel.Information, "Engine.IO session {Sid} sent an invalid packet and is closed: {Reason}")]
    public static partial void BadPacket(ILogger logger, string sid, string reason);

    [LoggerMessage(106, LogLevel.Debug, "Engine.IO session {Sid} did not answer a ping in time.")]
    public static partial void PingTimeout(ILogger logger, string sid);

    [LoggerMessage(107, LogLevel.Warning, "Engine.IO session {Sid} has more than {Limit} bytes waiting to be sent and is closed.")]
    public static partial void SlowClient(ILogger logger, string sid, int limit);

    [LoggerMessage(108, LogLevel.Warning, "A handler of Engine.IO session {Sid} failed.")]
    public static partial void HandlerFailed(ILogger logger, string sid, Exception exception);

    [LoggerMessage(109, LogLevel.Debug, "Forwarding a request for session {Sid} to gateway {GatewayId} at {Url} failed: {Reason}")]
    public static partial void ForwardFailed(ILogger logger, string sid, string gatewayId, string url, string reason);

    [LoggerMessage(110, LogLevel.Warning, "A socket.io handler of socket {SocketId} failed.")]
    public static partial void SocketHandlerFailed(ILogger logger, string socketId, Exception exception);

    [LoggerMessage(111, LogLevel.Debug, "socket.io socket {SocketId} recovered its session.")]
    public static partial void Recovered(ILogger logger, string socketId);

    [LoggerMessage(112, LogLevel.Information, "A session named by {Id} was not recovered: {Reason}; the socket starts afresh.")]
    public static partial void NotRecovered(ILogger logger, string id, string reason);

    [LoggerMessage(113, LogLevel.Information, "Recovering socket.io socket {SocketId} failed: history lost part of what it missed meanwhile; it is closed, to start afresh.")]
    public static partial void RecoveryIncomplete(ILogger logger, string socketId);
}
