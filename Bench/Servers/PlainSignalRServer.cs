using System.Text.Json;
using Microsoft.AspNetCore.SignalR;

namespace Realtime.Bench.Servers;

/// <summary>
/// The framework's own ceiling: ASP.NET Core SignalR in one process with its default lifetime manager, offering the
/// RealtimeHub's methods that the load clients call and delivering in the same envelope.
/// </summary>
public static class PlainSignalRServer
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Services.AddSignalR();
        var app = builder.Build();
        app.UseWebSockets();
        app.MapHub<PlainHub>("/realtime");
        app.MapGet("/healthz/ready", () => "ready");
        return app;
    }
}

/// <summary>The hub of <see cref="PlainSignalRServer"/>: groups are rooms.</summary>
public sealed class PlainHub : Hub
{
    public string ConnectionId() => Context.ConnectionId;

    public async Task<string[]> Join(string room)
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, room);
        return [room];
    }

    public async Task<string[]> Leave(string room)
    {
        await Groups.RemoveFromGroupAsync(Context.ConnectionId, room);
        return [];
    }

    public Task SendToRoom(string room, string eventName, JsonElement data) =>
        Clients.Group(room).SendAsync("event", new Envelope(eventName, data, "/", room, Context.ConnectionId));

    public Task Broadcast(string eventName, JsonElement data) =>
        Clients.All.SendAsync("event", new Envelope(eventName, data, "/", null, Context.ConnectionId));

    /// <summary>What a client receives: the RealtimeHub's <c>event</c> argument.</summary>
    public sealed record Envelope(string Event, JsonElement Data, string Namespace, string? Room, string From);
}
