using Microsoft.Extensions.Logging;

namespace Realtime.Runtime.Internal;

internal static partial class RuntimeLog
{
    [LoggerMessage(1, LogLevel.Error, "Activation of {GrainId} failed.")]
    public static partial void ActivationFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(2, LogLevel.Warning, "OnDeactivateAsync of {GrainId} failed.")]
    public static partial void DeactivationFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(3, LogLevel.Debug, "Deactivated {GrainId} ({Reason}).")]
    public static partial void Deactivated(ILogger logger, GrainId grainId, DeactivationReason reason);

    [LoggerMessage(4, LogLevel.Warning, "A timer of {GrainId} failed.")]
    public static partial void TimerFailed(ILogger logger, GrainId grainId, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "One-way call {Method} to {GrainId} failed.")]
    public static partial void OneWayCallFailed(ILogger logger, string method, GrainId grainId, Exception exception);

    [LoggerMessage(6, LogLevel.Debug, "Call {Method} to observer {GrainId}, which no longer exists.")]
    public static partial void ObserverNotFound(ILogger logger, GrainId grainId, string method);

    [LoggerMessage(7, LogLevel.Information, "Grain runtime {NodeName} started.")]
    public static partial void Started(ILogger logger, string nodeName);

    [LoggerMessage(8, LogLevel.Information, "Grain runtime {NodeName} stopped; {Remaining} activations did not deactivate in time.")]
    public static partial void Stopped(ILogger logger, string nodeName, int remaining);

    [LoggerMessage(9, LogLevel.Warning, "Observer {Observer} failed at the end of a burst of calls.")]
    public static partial void BurstNotificationFailed(ILogger logger, string observer, Exception exception);
}
