using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Services;
using Orleans.Services;
using Realtime.Contracts.Hosting;

namespace Realtime.Hosting.Silos;

/// <summary>
/// Declares a silo dead as soon as its silo port refuses connections, instead of after Orleans' missed probes. A process
/// killed with <c>kill -9</c> (or crashed) closes its sockets at once: the other silos see their connections to it end,
/// and a new connection to its port is refused (a reset, not a timeout). That is proof the process is gone, so when
/// this silo and one other live silo both find the port refusing (two votes, as Orleans asks; one when no other silo
/// is left), this silo declares it dead through <see cref="IClusterMembershipService.TryKill"/>, as Orleans'
/// Kubernetes hosting does for a deleted pod. A port that accepts, or does not answer (a frozen process, a lost
/// machine), changes nothing: Orleans' probes decide those.
/// </summary>
/// <remarks>
/// Orleans tells of an ended connection through its <c>Orleans.Connections</c> diagnostic listener; its payload types
/// are internal, so the silo at the other end is read by name.
/// </remarks>
internal sealed partial class RefusedSilos : ILifecycleParticipant<ISiloLifecycle>, IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
{
    /// <summary>How many times, this far apart, a port must refuse before this silo counts its vote.</summary>
    private const int Attempts = 3;

    private static readonly TimeSpan AttemptGap = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromMilliseconds(500);

    private readonly IClusterMembershipService _membership;
    private readonly ILocalSiloDetails _self;
    private readonly RefusalChecks _checks;
    private readonly RealtimeClusterOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<SiloAddress, Task> _checking = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<IDisposable> _subscriptions = [];

    public RefusedSilos(IClusterMembershipService membership, ILocalSiloDetails self, RefusalChecks checks, IOptions<RealtimeClusterOptions> options, ILogger<RefusedSilos> logger)
    {
        _membership = membership;
        _self = self;
        _checks = checks;
        _options = options.Value;
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RefusedSilos), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken cancellationToken)
    {
        if (_options.DeclareRefusingSilosDead)
        {
            lock (_subscriptions)
            {
                _subscriptions.Add(DiagnosticListener.AllListeners.Subscribe(this));
            }
        }

        return Task.CompletedTask;
    }

    private Task Stop(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        lock (_subscriptions)
        {
            foreach (var subscription in _subscriptions)
            {
                subscription.Dispose();
            }

            _subscriptions.Clear();
        }

        return Task.CompletedTask;
    }

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener listener)
    {
        if (listener.Name == "Orleans.Connections")
        {
            lock (_subscriptions)
            {
                _subscriptions.Add(listener.Subscribe(this, static name => name == "Terminated"));
            }
        }
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> value)
    {
        // Connections either way count: two silos may talk over the one that either of them opened.
        if (_stopping.IsCancellationRequested || value.Key != "Terminated" || RemoteSilo(value.Value) is not { } silo || silo.Equals(_self.SiloAddress))
        {
            return;
        }

        if (_membership.CurrentSnapshot.Members.TryGetValue(silo, out var member) && member.Status == SiloStatus.Active)
        {
            _checking.GetOrAdd(silo, CheckAsync);
        }
    }

    /// <summary>Counts this silo's vote, asks another live silo for its own, and declares the silo dead when both say it refuses.</summary>
    private async Task CheckAsync(SiloAddress silo)
    {
        try
        {
            if (!await Refuses(silo.Endpoint, _stopping.Token))
            {
                return;
            }

            var others = _membership.CurrentSnapshot.Members.Values
                .Where(m => m.Status == SiloStatus.Active && !m.SiloAddress.Equals(silo) && !m.SiloAddress.Equals(_self.SiloAddress))
                .Select(m => m.SiloAddress)
                .OrderBy(_ => Random.Shared.Next())
                .ToList();
            var confirmedBy = await _checks.ConfirmAsync(others, silo, _stopping.Token);
            if (others.Count > 0 && confirmedBy is null)
            {
                NotConfirmed(_logger, silo);
                return;
            }

            Declaring(_logger, silo, confirmedBy?.ToString() ?? "no other live silo");
            await _membership.TryKill(silo);
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            CheckFailed(_logger, silo, ex);
        }
        finally
        {
            _checking.TryRemove(silo, out _);
        }
    }

    /// <summary>True when every one of a few attempts to connect to the endpoint was refused.</summary>
    internal static async Task<bool> Refuses(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(AttemptGap, cancellationToken);
            }

            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ConnectTimeout);
            try
            {
                await socket.ConnectAsync(endpoint, timeout.Token);
                return false; // something listens there
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return false; // no answer is no proof: a frozen process or a lost machine is for the probes to decide
            }
        }

        return true;
    }

    /// <summary>The silo at the other end of an ended silo-to-silo connection (null for a client's).</summary>
    private static SiloAddress? RemoteSilo(object? terminated) =>
        terminated?.GetType().GetField("Connection")?.GetValue(terminated) is { } connection
            ? connection.GetType().GetProperty("RemoteSiloAddress")?.GetValue(connection) as SiloAddress
            : null;

    void IObserver<DiagnosticListener>.OnCompleted()
    {
    }

    void IObserver<DiagnosticListener>.OnError(Exception error)
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnCompleted()
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error)
    {
    }

    [LoggerMessage(201, LogLevel.Warning, "Silo {Silo} refuses connections to this silo and to {ConfirmedBy}: its process is gone; declaring it dead.")]
    private static partial void Declaring(ILogger logger, SiloAddress silo, string confirmedBy);

    [LoggerMessage(202, LogLevel.Information, "Silo {Silo} refused a connection from this silo, but no other live silo confirmed it; Orleans' probes decide.")]
    private static partial void NotConfirmed(ILogger logger, SiloAddress silo);

    [LoggerMessage(203, LogLevel.Warning, "Checking whether silo {Silo} refuses connections failed.")]
    private static partial void CheckFailed(ILogger logger, SiloAddress silo, Exception exception);
}

/// <summary>The second vote: another silo tries the port itself.</summary>
[Alias("realtime.refusal-check")]
public interface IRefusalCheck : IGrainService
{
    /// <summary>True when <paramref name="silo"/>'s port refuses this silo's connections too.</summary>
    [Alias("refuses")]
    Task<bool> Refuses(SiloAddress silo);
}

internal sealed class RefusalCheck(GrainId id, Silo silo, ILoggerFactory loggers) : GrainService(id, silo, loggers), IRefusalCheck
{
    public Task<bool> Refuses(SiloAddress silo) => RefusedSilos.Refuses(silo.Endpoint, CancellationToken.None);
}

/// <summary>Asks other silos' <see cref="IRefusalCheck"/>.</summary>
internal sealed class RefusalChecks(IServiceProvider services) : GrainServiceClient<IRefusalCheck>(services)
{
    /// <summary>How long another silo has to answer; one that does not (frozen itself) is no vote.</summary>
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Asks <paramref name="others"/> (three at most, at once, so that one that hangs holds nothing up) to try the port;
    /// returns the first whose own attempt was refused too, or null when none was.
    /// </summary>
    public async Task<SiloAddress?> ConfirmAsync(IReadOnlyList<SiloAddress> others, SiloAddress silo, CancellationToken cancellationToken)
    {
        var pending = others.Take(3).Select(other => AskAsync(other, silo, cancellationToken)).ToList();
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            if (await done is { } confirmedBy)
            {
                return confirmedBy;
            }
        }

        return null;
    }

    private async Task<SiloAddress?> AskAsync(SiloAddress other, SiloAddress silo, CancellationToken cancellationToken)
    {
        try
        {
            return await GetGrainService(other).Refuses(silo).WaitAsync(AnswerTimeout, cancellationToken) ? other : null;
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return null;
        }
    }
}
