using Microsoft.Extensions.Logging;

namespace Realtime.Runtime.Internal.Transport;

internal static partial class TransportLog
{
    [LoggerMessage(101, LogLevel.Information, "Connected to {Node}.")]
    public static partial void Connected(ILogger logger, string node);

    [LoggerMessage(102, LogLevel.Information, "Connection to {Node} closed: {Reason}.")]
    public static partial void Disconnected(ILogger logger, string node, string reason);

    [LoggerMessage(103, LogLevel.Warning, "Could not connect to {Node}: {Reason}")]
    public static partial void DialFailed(ILogger logger, string node, string reason);

    [LoggerMessage(104, LogLevel.Warning, "Malformed frame from {Node}, closing that connection: {Reason}")]
    public static partial void MalformedFrame(ILogger logger, string node, string reason);

    [LoggerMessage(105, LogLevel.Warning, "One-way message {Message} to {Node} dropped: {Reason}.")]
    public static partial void OneWayDropped(ILogger logger, string message, string node, string reason);
}
