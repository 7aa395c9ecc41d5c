using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.SignalR;

namespace Realtime.Gateway.Http.Admin;

/// <summary>What an admin page shows: the cluster's gateways and silos, and the RealtimeHub's namespaces and rooms.</summary>
public sealed record AdminSnapshot(
    DateTimeOffset At,
    string Gateway,
    IReadOnlyList<AdminGateway> Gateways,
    IReadOnlyList<AdminSilo> Silos,
    IReadOnlyList<AdminNamespace> Namespaces,
    IReadOnlyList<AdminRoom> Rooms,
    bool RoomsTruncated);

/// <summary>
/// A gateway: its connections (-1 when it did not answer in time), and the messages per second it delivered to its
/// connections' rooms and namespaces.
/// </summary>
public sealed record AdminGateway(string Id, int Connections, double MessagesPerSecond);

/// <summary>A silo, its status in the membership and its grain activations.</summary>
public sealed record AdminSilo(string Address, string Status, int Activations);

/// <summary>A namespace: its connections, and the messages per second sent to it as a whole (broadcasts).</summary>
public sealed record AdminNamespace(string Name, int Connections, double MessagesPerSecond);

/// <summary>A room with members: how many, and the messages per second it delivers.</summary>
public sealed record AdminRoom(string Namespace, string Name, int Members, double MessagesPerSecond);

/// <summary>
/// Builds admin snapshots from every gateway's own numbers (through the hub's registry, which asks each gateway) and
/// the silos' (Orleans' management grain), and pushes one to this gateway's open admin pages every
/// <see cref="AdminOptions.RefreshInterval"/> while there are any. Message rates are the change in messages delivered
/// over the last <see cref="AdminOptions.RateWindow"/> (the snapshots of that window are kept), so that a burst a few
/// seconds ago still shows.
/// </summary>
internal sealed partial class AdminSnapshots(
    IGrainFactory grains,
    GatewayReceiver gateway,
    IHubContext<AdminHub> admins,
    IOptions<AdminOptions> options,
    TimeProvider time,
    ILogger<AdminSnapshots> logger) : BackgroundService
{
    private static readonly string Hub = nameof(RealtimeHub);

    private readonly SemaphoreSlim _building = new(1, 1);

    // The messages delivered so far, by group key (and by gateway), at each snapshot of the rate window, oldest first.
    private readonly Queue<(DateTimeOffset At, Dictionary<string, long> Messages)> _window = new();
    private int _pages;

    /// <summary>How many admin pages are open on this gateway.</summary>
    public int Pages => Volatile.Read(ref _pages);

    public void PageOpened() => Interlocked.Increment(ref _pages);

    public void PageClosed() => Interlocked.Decrement(ref _pages);

    public async Task<AdminSnapshot> BuildAsync(CancellationToken cancellationToken)
    {
        await _building.WaitAsync(cancellationToken);
        try
        {
            var stats = await grains.GetGrain<IGatewayRegistryGrain>(Hub).GatewayStats(options.Value.MaxRooms).WaitAsync(cancellationToken);
            var silos = await SilosAsync(cancellationToken);
            var now = time.GetUtcNow();
            while (_window.Count > 1 && now - _window.Peek().At > options.Value.RateWindow)
            {
                _window.Dequeue();
            }

            var (since, before) = _window.Count > 0 ? _window.Peek() : (now, new Dictionary<string, long>());
            var seconds = (now - since).TotalSeconds;
            var messages = new Dictionary<string, long>(StringComparer.Ordinal);
            double Rate(string key, long count)
            {
                messages[key] = Math.Max(messages.GetValueOrDefault(key), count);
                // A group that had no local members at the window's start has counted from 0 since it got them.
                return seconds > 0 ? Math.Max(0, (count - before.GetValueOrDefault(key)) / seconds) : 0;
            }

            var namespaces = stats.SelectMany(s => s.Namespaces).GroupBy(n => n.Key)
                .Select(g => new AdminNamespace(g.Key[Hub.Length..], g.Sum(n => n.Members), Rate(g.Key, g.Max(n => n.Messages))))
                .OrderBy(n => n.Name, StringComparer.Ordinal)
                .ToArray();
            var rooms = stats.SelectMany(s => s.Rooms).GroupBy(r => r.Key)
                .Select(g => (Key: g.Key, Members: g.Sum(r => r.Members), Rate: Rate(g.Key, g.Max(r => r.Messages))))
                .OrderByDescending(r => r.Members).ThenBy(r => r.Key, StringComparer.Ordinal)
                .Select(r => RoomOf(r.Key, r.Members, r.Rate))
                .ToArray();
            var gateways = stats
                .Select(s => new AdminGateway(s.GatewayId, s.Connections, Rate("gateway " + s.GatewayId, s.Namespaces.Sum(n => n.Messages) + s.Rooms.Sum(r => r.Messages))))
                .OrderBy(g => g.Id, StringComparer.Ordinal)
                .ToArray();
            _window.Enqueue((now, messages));
            return new AdminSnapshot(
                now,
                gateway.GatewayId,
                gateways,
                silos,
                namespaces,
                rooms,
                stats.Any(s => s.Truncated));
        }
        finally
        {
            _building.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (Pages == 0)
            {
                continue;
            }

            try
            {
                await admins.Clients.All.SendAsync(AdminHub.SnapshotMethod, await BuildAsync(stoppingToken), stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                SnapshotFailed(logger, ex);
            }
        }
    }

    private async Task<IReadOnlyList<AdminSilo>> SilosAsync(CancellationToken cancellationToken)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetHosts(onlyActive: true).WaitAsync(cancellationToken);
        var addresses = hosts.Keys.ToArray();
        var statistics = await management.GetRuntimeStatistics(addresses).WaitAsync(cancellationToken);
        return [.. addresses.Select((address, i) => new AdminSilo(address.ToString(), hosts[address].ToString(), statistics[i].ActivationCount)).OrderBy(s => s.Address, StringComparer.Ordinal)];
    }

    /// <summary>A room key is the hub, the namespace (<c>/</c> or <c>/name</c>), a slash and the room's name.</summary>
    private static AdminRoom RoomOf(string key, int members, double rate)
    {
        var rest = key[Hub.Length..];
        var slash = rest.IndexOf('/', 1);
        return new AdminRoom(rest[..slash], rest[(slash + 1)..], members, rate);
    }

    [LoggerMessage(140, LogLevel.Warning, "An admin snapshot could not be made; the admin pages keep the last one.")]
    private static partial void SnapshotFailed(ILogger logger, Exception exception);
}
