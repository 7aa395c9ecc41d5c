using Microsoft.Extensions.Logging;

namespace Realtime.Runtime.Internal.Membership;

internal static partial class MembershipLog
{
    [LoggerMessage(201, LogLevel.Information, "{Node} joined the cluster as a {Role}.")]
    public static partial void Joined(ILogger logger, string node, NodeRole role);

    [LoggerMessage(202, LogLevel.Information, "{Node} left the cluster.")]
    public static partial void Left(ILogger logger, string node);

    [LoggerMessage(203, LogLevel.Warning, "The membership table is unavailable: {Reason}")]
    public static partial void TableUnavailable(ILogger logger, string reason);

    [LoggerMessage(204, LogLevel.Information, "The membership table is reachable again.")]
    public static partial void TableBack(ILogger logger);

    [LoggerMessage(205, LogLevel.Debug, "Probe of {Node} missed ({Missed} in a row).")]
    public static partial void ProbeMissed(ILogger logger, string node, int missed);

    [LoggerMessage(206, LogLevel.Warning, "Suspecting {Node}: {Votes} of {Needed} votes.")]
    public static partial void Suspected(ILogger logger, string node, int votes, int needed);

    [LoggerMessage(207, LogLevel.Warning, "Declared {Node} dead: {Reason}.")]
    public static partial void DeclaredDead(ILogger logger, string node, string reason);

    [LoggerMessage(208, LogLevel.Critical, "{Node} was declared dead by the cluster; stopping.")]
    public static partial void FoundSelfDead(ILogger logger, string node);

    [LoggerMessage(209, LogLevel.Information, "Membership view {Version}: active silos {Silos}.")]
    public static partial void ViewChanged(ILogger logger, long version, string silos);

    [LoggerMessage(211, LogLevel.Information, "Deleted {Count} row(s) of long-dead nodes from the membership table.")]
    public static partial void DeletedDeadRows(ILogger logger, int count);

    [LoggerMessage(210, LogLevel.Error, "A membership task failed.")]
    public static partial void LoopFailed(ILogger logger, Exception exception);
}
