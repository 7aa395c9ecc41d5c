using Microsoft.Extensions.Logging;

namespace Realtime.Client.Hosting;

/// <summary>
/// Keeps a client trying to reach the cluster at start (no silo up yet, Redis not yet reachable), once a second,
/// for <see cref="Contracts.Hosting.RealtimeClusterOptions.ConnectTimeout"/> or, when that is empty, for as long as
/// the process runs. Once connected, Orleans' client finds silos that come and go on its own.
/// </summary>
internal sealed partial class ConnectRetryFilter(TimeSpan? timeout, TimeProvider time, ILogger<ConnectRetryFilter> logger) : IClientConnectionRetryFilter
{
    private readonly DateTimeOffset _started = time.GetUtcNow();
    private int _attempts;

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        if (timeout is { } limit && time.GetUtcNow() - _started > limit)
        {
            GaveUp(logger, limit, exception);
            return false;
        }

        if (++_attempts % 10 == 1)
        {
            Retrying(logger, _attempts, exception.Message);
        }

        await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
        return true;
    }

    [LoggerMessage(40, LogLevel.Warning, "The cluster is not reachable yet (attempt {Attempt}: {Reason}); trying again.")]
    private static partial void Retrying(ILogger logger, int attempt, string reason);

    [LoggerMessage(41, LogLevel.Error, "The cluster was not reachable within Cluster:ConnectTimeout ({Timeout}); giving up.")]
    private static partial void GaveUp(ILogger logger, TimeSpan timeout, Exception exception);
}
