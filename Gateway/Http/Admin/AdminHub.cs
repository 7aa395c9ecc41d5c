using Microsoft.AspNetCore.SignalR;
using Realtime.Client.Operations;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.SignalR;

namespace Realtime.Gateway.Http.Admin;

/// <summary>
/// The admin page's hub (<c>{Admin:Path}/hub</c>, behind the admin policy): it pushes snapshots to the page
/// (<c>snapshot</c>), lists a room's members, disconnects a connection and closes a room, anywhere in the cluster.
/// Its connections are this gateway's own (SignalR's default lifetime manager): each gateway feeds its own pages.
/// </summary>
internal sealed class AdminHub(AdminSnapshots snapshots, IRealtimeCluster cluster, LocalHub<RealtimeHub> realtime) : Hub
{
    /// <summary>The client method snapshots arrive on.</summary>
    public const string SnapshotMethod = "snapshot";

    public override async Task OnConnectedAsync()
    {
        snapshots.PageOpened();
        await Clients.Caller.SendAsync(SnapshotMethod, await snapshots.BuildAsync(Context.ConnectionAborted));
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        snapshots.PageClosed();
        return Task.CompletedTask;
    }

    /// <summary>The members of a room, on every gateway.</summary>
    public Task<IReadOnlyList<PresenceEntry>> Members(string @namespace, string room) => cluster.RoomPresenceAsync(@namespace, room);

    /// <summary>Closes a connection wherever it is; false when it is not open.</summary>
    public Task<bool> Disconnect(string connectionId) => cluster.DisconnectAsync(connectionId);

    /// <summary>Closes a room: its members leave it and are told; returns how many there were.</summary>
    public Task<int> CloseRoom(string @namespace, string room) =>
        realtime.CloseRoomAsync(@namespace, room);
}
