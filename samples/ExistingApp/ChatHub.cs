using Microsoft.AspNetCore.SignalR;

namespace Realtime.Samples.ExistingApp;

/// <summary>The application's own hub, plain SignalR: groups are rooms, on every node of the cluster.</summary>
public sealed class ChatHub : Hub
{
    public Task Join(string room) => Groups.AddToGroupAsync(Context.ConnectionId, room);

    public Task Leave(string room) => Groups.RemoveFromGroupAsync(Context.ConnectionId, room);

    public Task Say(string room, string text) => Clients.Group(room).SendAsync("said", new Said(Context.ConnectionId, text));
}

/// <summary>What a room's members are sent when one of them says something.</summary>
public sealed record Said(string From, string Text);
