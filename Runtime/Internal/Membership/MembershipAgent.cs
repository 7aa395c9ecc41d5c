using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Runtime.Hosting;
using Realtime.Runtime.Internal.Activation;
using Realtime.Runtime.Internal.Transport;

namespace Realtime.Runtime.Internal.Membership;

/// <summary>
/// This node's part in the membership protocol, after Orleans' design:
/// <list type="bullet">
/// <item>it writes its own row (silos: Joining, then Active; clients: Active) and its I-am-alive time;</item>
/// <item>it reads the table periodically and publishes the view; a node that finds itself declared dead stops;</item>
/// <item>a silo probes the next few active silos on the ring of names; after enough missed probes it adds its
/// suspicion to the target's row, and declares it dead once the suspicions are enough votes;</item>
/// <item>a silo also declares dead any node whose I-am-alive time has not moved for <see cref="ClusterOptions.DefunctTimeout"/>
/// while the table could be read (this is how clients that vanish are found);</item>
/// <item>while the table cannot be read nothing is declared, and the I-am-alive clock of every node restarts when it
/// can be read again, so an outage of the table never kills the cluster.</item>
/// </list>
/// </summary>
internal sealed class MembershipAgent : IHostedLifecycleService
{
    private readonly IMembershipTable _table;
    private readonly ClusterView _view;
    private readonly MessageCenter _messages;
    private readonly NodeIdentity _self;
    private readonly ClusterOptions _options;
    private readonly TimeProvider _time;
    private readonly Catalog _catalog;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<MembershipAgent> _logger;
    private readonly Dictionary<string, (DateTimeOffset Value, DateTimeOffset ObservedAt)> _aliveSeen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _missedProbes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _missingSince = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private readonly TaskCompletionSource _left = new();
    private DateTimeOffset _lastRead;
    private bool _tableDown;
    private volatile bool _declaredDead;

    public MembershipAgent(
        IMembershipTable table,
        ClusterView view,
        MessageCenter messages,
        NodeIdentity self,
        IOptions<ClusterOptions> options,
        TimeProvider time,
        Catalog catalog,
        IHostApplicationLifetime lifetime,
        ILogger<MembershipAgent> logger)
    {
        _table = table;
        _view = view;
        _messages = messages;
        _self = self;
        _options = options.Value;
        _time = time;
        _catalog = catalog;
        _lifetime = lifetime;
        _logger = logger;
        _view.Changed += OnViewChanged;
    }

    private bool IsSilo => _self.Role == NodeRole.Silo;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var row = new MembershipEntry(_self.Name, _self.Role, IsSilo ? MembershipStatus.Joining : MembershipStatus.Active, now, []) { IAmAlive = now };
        while (true)
        {
            try
            {
                if (!await _table.TryInsertAsync(row, cancellationToken))
                {
                    throw new InvalidOperationException($"The membership table already has a node named {_self.Name}.");
                }

                break;
            }
            catch (MembershipUnavailableException ex)
            {
                // Joining needs the table; an existing cluster goes on without it, a new node waits for it.
                MembershipLog.TableUnavailable(_logger, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }

        await RefreshAsync(cancellationToken);

        // A silo turns Active once the host has started, and so once Kestrel accepts node connections.
        _lifetime.ApplicationStarted.Register(() => _ = BeginAsync());
    }

    private async Task BeginAsync()
    {
        var token = _stopping.Token;
        try
        {
            if (IsSilo)
            {
                await SetOwnStatusAsync(MembershipStatus.Active, token);
                await RefreshAsync(token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return;
        }

        MembershipLog.Joined(_logger, _self.Name, _self.Role);
        lock (_loops)
        {
            _loops.Add(LoopAsync(_options.TableRefreshPeriod, RefreshAsync, wakeOnRefreshRequest: true));
            _loops.Add(LoopAsync(_options.IAmAlivePeriod, WriteIAmAliveAsync));
            if (IsSilo)
            {
                _loops.Add(LoopAsync(_options.ProbePeriod, ProbeAsync));
                _loops.Add(LoopAsync(TimeSpan.FromTicks(Math.Max(_options.DeadRowRetention.Ticks / 4, TimeSpan.FromSeconds(1).Ticks)), DeleteDeadRowsAsync));
            }
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Leaves the cluster before any hosted service stops, Kestrel included: Kestrel waits for the node connections
    /// it accepted, and those close only once this node has handed its grains over and said it is gone.
    /// </summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (!_declaredDead && _left.TrySetResult())
        {
            if (IsSilo)
            {
                // Leave the ring first: the others stop routing here, our grains deactivate and move, and calls still
                // queued here follow them.
                await SetOwnStatusAsync(MembershipStatus.ShuttingDown, cancellationToken);
                await RefreshAsync(cancellationToken);
                await _catalog.DeactivateAllAsync(TimeSpan.FromSeconds(10));
                await Task.Delay(_options.TableRefreshPeriod * 2, cancellationToken);
            }

            await SetOwnStatusAsync(MembershipStatus.Dead, cancellationToken);
            MembershipLog.Left(_logger, _self.Name);
        }

        await _stopping.CancelAsync();
        _messages.Stop();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        Task[] loops;
        lock (_loops)
        {
            loops = [.. _loops];
        }

        await Task.WhenAll(loops);
        _messages.Stop();
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task LoopAsync(TimeSpan period, Func<CancellationToken, Task> work, bool wakeOnRefreshRequest = false)
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var delay = Task.Delay(period, _time, token);
                if (wakeOnRefreshRequest)
                {
                    await Task.WhenAny(delay, _view.RefreshRequested);
                }
                else
                {
                    await delay;
                }

                await work(token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                MembershipLog.LoopFailed(_logger, ex);
            }
        }
    }

    /// <summary>Reads the table and publishes the view; one refresh at a time, as the loop and the lifecycle both refresh.</summary>
    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            await RefreshOnceAsync(cancellationToken);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private async Task RefreshOnceAsync(CancellationToken cancellationToken)
    {
        MembershipSnapshot snapshot;
        try
        {
            snapshot = await _table.ReadAllAsync(cancellationToken);
        }
        catch (MembershipUnavailableException ex)
        {
            if (!_tableDown)
            {
                MembershipLog.TableUnavailable(_logger, ex.Message);
            }

            _tableDown = true;
            return;
        }

        var now = _time.GetUtcNow();
        if (_tableDown || now - _lastRead > _options.TableRefreshPeriod * 4)
        {
            // We could not see the table for a while: nobody's I-am-alive clock is evidence of anything yet.
            _aliveSeen.Clear();
            if (_tableDown)
            {
                MembershipLog.TableBack(_logger);
            }
        }

        _tableDown = false;
        _lastRead = now;
        var own = snapshot.Find(_self.Name);
        if (own is null)
        {
            // The table lost our row (a Redis restart without persistence): write it again.
            var row = new MembershipEntry(_self.Name, _self.Role, MembershipStatus.Active, now, []) { IAmAlive = now };
            await _table.TryInsertAsync(row, cancellationToken);
            snapshot = await _table.ReadAllAsync(cancellationToken);
        }
        else if (own.Status == MembershipStatus.Dead && !_stopping.IsCancellationRequested)
        {
            DeclaredDead();
            return;
        }

        _view.Update(new MembershipView(KeepMissingRows(snapshot, now), _options.VirtualNodes));
        if (IsSilo)
        {
            await DeclareDefunctAsync(snapshot, now, cancellationToken);
        }
    }

    /// <summary>
    /// Only the rows of long-dead nodes are ever deleted, so a row of a live node that vanished means the table lost
    /// its data (Redis restarted empty). Such a node is not dead: a live one writes its row again within a refresh. Its last known row stays in the view for
    /// <see cref="ClusterOptions.DefunctTimeout"/>, and only a node that has not come back by then departs.
    /// </summary>
    private MembershipSnapshot KeepMissingRows(MembershipSnapshot snapshot, DateTimeOffset now)
    {
        var kept = new List<MembershipEntry>();
        foreach (var entry in _view.Current.Snapshot.Entries)
        {
            if (entry.Status == MembershipStatus.Dead || snapshot.Find(entry.Name) is not null)
            {
                _missingSince.Remove(entry.Name);
                continue;
            }

            if (!_missingSince.TryGetValue(entry.Name, out var since))
            {
                _missingSince[entry.Name] = since = now;
            }

            if (now - since < _options.DefunctTimeout)
            {
                kept.Add(entry);
            }
            else
            {
                _missingSince.Remove(entry.Name);
            }
        }

        return kept.Count == 0 ? snapshot : snapshot with { Entries = [.. snapshot.Entries, .. kept] };
    }

    private async Task DeclareDefunctAsync(MembershipSnapshot snapshot, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var entry in snapshot.Entries)
        {
            if (entry.Name == _self.Name || entry.Status == MembershipStatus.Dead)
            {
                _aliveSeen.Remove(entry.Name);
                continue;
            }

            if (!_aliveSeen.TryGetValue(entry.Name, out var seen) || seen.Value != entry.IAmAlive)
            {
                _aliveSeen[entry.Name] = (entry.IAmAlive, now);
                continue;
            }

            if (now - seen.ObservedAt > _options.DefunctTimeout)
            {
                await DeclareDeadAsync(entry, $"its I-am-alive time has not moved for {(now - seen.ObservedAt).TotalSeconds:0.#} s", cancellationToken);
            }
        }
    }

    /// <summary>Rows are kept after death for inspection, then deleted, so restarts do not grow the table forever.</summary>
    private async Task DeleteDeadRowsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var deleted = await _table.DeleteDeadAsync(_time.GetUtcNow() - _options.DeadRowRetention, cancellationToken);
            if (deleted > 0)
            {
                MembershipLog.DeletedDeadRows(_logger, deleted);
            }
        }
        catch (MembershipUnavailableException)
        {
            // The next round tries again.
        }
    }

    private Task WriteIAmAliveAsync(CancellationToken cancellationToken) => IgnoreUnavailable(_table.UpdateIAmAliveAsync(_self.Name, _time.GetUtcNow(), cancellationToken));

    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var silos = _view.Current.ActiveSilos;
        var index = IndexOf(silos, _self.Name);
        if (index < 0)
        {
            return;
        }

        var targets = new List<string>();
        for (var i = 1; i < silos.Count && targets.Count < _options.ProbedSilos; i++)
        {
            targets.Add(silos[(index + i) % silos.Count]);
        }

        foreach (var stale in _missedProbes.Keys.Except(targets).ToArray())
        {
            _missedProbes.Remove(stale);
        }

        var results = await Task.WhenAll(targets.Select(t => _messages.PingAsync(t, _options.ProbeTimeout)));
        for (var i = 0; i < targets.Count; i++)
        {
            var target = targets[i];
            if (results[i])
            {
                _missedProbes[target] = 0;
                continue;
            }

            var missed = _missedProbes[target] = _missedProbes.GetValueOrDefault(target) + 1;
            MembershipLog.ProbeMissed(_logger, target, missed);
            if (missed >= _options.MissedProbesLimit)
            {
                await IgnoreUnavailable(SuspectAsync(target, cancellationToken));
            }
        }
    }

    private async Task SuspectAsync(string target, CancellationToken cancellationToken)
    {
        var snapshot = await _table.ReadAllAsync(cancellationToken);
        var entry = snapshot.Find(target);
        if (entry is null || entry.Status == MembershipStatus.Dead)
        {
            return;
        }

        var (votes, needed, dead) = SuspicionVote.Cast(snapshot, entry, _self.Name, _time.GetUtcNow(), _options.DeathVoteExpiration, _options.VotesForDeath);
        if (dead)
        {
            await DeclareDeadAsync(entry with { Suspicions = votes }, $"{votes.Count} silo(s) missed {_options.MissedProbesLimit} probes in a row", cancellationToken);
        }
        else if (await _table.TryUpdateAsync(entry with { Suspicions = votes }, entry.ETag, cancellationToken))
        {
            MembershipLog.Suspected(_logger, target, votes.Count, needed);
        }
    }

    private async Task DeclareDeadAsync(MembershipEntry entry, string reason, CancellationToken cancellationToken)
    {
        if (await _table.TryUpdateAsync(entry with { Status = MembershipStatus.Dead }, entry.ETag, cancellationToken))
        {
            MembershipLog.DeclaredDead(_logger, entry.Name, reason);
            _view.RequestRefresh();
        }
    }

    private async Task SetOwnStatusAsync(MembershipStatus status, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                var snapshot = await _table.ReadAllAsync(cancellationToken);
                if (snapshot.Find(_self.Name) is not { } own)
                {
                    return;
                }

                if (own.Status == status || await _table.TryUpdateAsync(own with { Status = status }, own.ETag, cancellationToken))
                {
                    return;
                }
            }
            catch (MembershipUnavailableException ex)
            {
                MembershipLog.TableUnavailable(_logger, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
        }
    }

    private void DeclaredDead()
    {
        if (_declaredDead)
        {
            return;
        }

        // The cluster has moved on without us: whatever we hold may already live elsewhere. Stop.
        _declaredDead = true;
        MembershipLog.FoundSelfDead(_logger, _self.Name);
        _lifetime.StopApplication();
    }

    private void OnViewChanged(MembershipView before, MembershipView after)
    {
        foreach (var departed in after.DepartedSince(before))
        {
            _messages.MarkDead(departed.Name);
        }

        if (IsSilo)
        {
            _catalog.OnViewChanged(before, after, _self.Name);
        }

        MembershipLog.ViewChanged(_logger, after.Snapshot.Version, string.Join(", ", after.ActiveSilos));
    }

    private async Task IgnoreUnavailable(Task task)
    {
        try
        {
            await task;
        }
        catch (MembershipUnavailableException ex)
        {
            if (!_tableDown)
            {
                MembershipLog.TableUnavailable(_logger, ex.Message);
            }
        }
    }

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == value)
            {
                return i;
            }
        }

        return -1;
    }
}
