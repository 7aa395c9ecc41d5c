using Microsoft.AspNetCore.SignalR;
using Realtime.Gateway.Internal;
using Realtime.Grains;
using Realtime.Runtime;

namespace Realtime.Gateway.LifetimeManager;

/// <summary>Keeping the grains right when the cluster changes, and telling clients to reconnect when this gateway stops.</summary>
internal sealed partial class RealtimeHubLifetimeManager<THub>
    where THub : Hub
{
    /// <summary>
    /// The ring moved some grains to other silos (one died, joined or left): every grain this gateway has state in
    /// and that now lives elsewhere is told that state again, one call per grain. The grain on its new silo thus
    /// has every member it had, and no client has to join again. Silos learn of a change a little apart from each
    /// other, so a call that fails is tried again, until it succeeds or a newer change takes over.
    /// </summary>
    private async Task ReassertAsync(ClusterMembershipChange change)
    {
        var generation = Interlocked.Increment(ref _reassertGeneration);
        var pending = ReassertCalls(change);
        var delay = TimeSpan.FromMilliseconds(250);
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            var results = await Task.WhenAll(pending.Select(TryCallAsync));
            var failed = pending.Where((_, i) => results[i] is not null).ToList();
            GatewayLog.Reasserted(_logger, pending.Count - failed.Count, failed.Count);
            if (failed.Count == 0 || attempt == 20 || generation != Volatile.Read(ref _reassertGeneration))
            {
                if (failed.Count > 0 && generation == Volatile.Read(ref _reassertGeneration))
                {
                    GatewayLog.ReassertFailed(_logger, results.First(r => r is not null)!);
                }

                return;
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            pending = failed;
        }
    }

    private static async Task<Exception?> TryCallAsync(Func<Task> call)
    {
        try
        {
            await call();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private List<Func<Task>> ReassertCalls(ClusterMembershipChange change)
    {
        var gateway = _receiver.Reference;
        var calls = new List<Func<Task>>();
        if (_hubRegistration is not null && change.Moved(_grains.GetGrain<IHubGrain>(HubName).GetGrainId()))
        {
            calls.Add(() =>
            {
                _hubRegistration = null;
                return EnsureHubRegisteredAsync();
            });
        }

        foreach (var (connectionId, local) in _connections)
        {
            var session = Session(connectionId);
            if (local.Rejection is null && change.Moved(session.GetGrainId()))
            {
                calls.Add(() => local.IsClosed
                    ? Task.CompletedTask
                    : session.Open(new SessionInfo(HubName, local.Namespace, local.Member, local.RoomKeys(), local.Data), gateway));
            }
        }

        AddResyncCalls(change, _rooms, key => Room(key), calls);
        AddResyncCalls(change, _namespaces, key => _grains.GetGrain<INamespaceGrain>(key), calls);
        AddResyncCalls(change, _users, key => _grains.GetGrain<IUserGrain>(key), calls);
        return calls;
    }

    private void AddResyncCalls(ClusterMembershipChange change, LocalIndex index, Func<string, IGatewayMembers> grainOf, List<Func<Task>> calls)
    {
        foreach (var key in index.Keys)
        {
            var grain = grainOf(key);
            if (change.Moved(grain.GetGrainId()))
            {
                // The members are read when the call is made, so a retry carries joins and leaves made meanwhile.
                calls.Add(() => grain.SyncGateway(GatewayId, LocalMembers(index, key), _receiver.Reference));
            }
        }
    }

    private List<Member> LocalMembers(LocalIndex index, string key)
    {
        var members = new List<Member>();
        if (index.Members(key) is { } connections)
        {
            foreach (var (connectionId, _) in connections)
            {
                if (_connections.TryGetValue(connectionId, out var local))
                {
                    members.Add(local.Member);
                }
            }
        }

        return members;
    }

    /// <summary>
    /// Tells every client to reconnect (to another gateway) before this one stops. It runs while the host is
    /// stopping and waits, briefly, for the close messages to be written: SignalR closes connections on stopping
    /// too, and a connection closed first would never hear why.
    /// </summary>
    private void CloseForShutdown()
    {
        var writes = new List<Task>();
        foreach (var (_, local) in _connections)
        {
            writes.Add(local.CloseForShutdownAsync());
        }

        try
        {
            Task.WaitAll(writes.ToArray(), TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
            // Some connections were already going away.
        }

        // A client closes on its own when told; give the frames time to leave before SignalR aborts what is left
        // (aborting here would cut the transport before it sent them).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (!_connections.IsEmpty && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
    }
}
