using System.Text.Json;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Spec;

/// <summary>The RealtimeHub's clients, through the real .NET SignalR client: the spec's words as hub calls.</summary>
public sealed class SignalRSpecClients : ISpecClients
{
    public async Task<ISpecClient> ConnectAsync(string name, Uri gateway, string? user = null)
    {
        var client = await SignalRTestClient.ConnectAsync(HubUri(gateway, user), name);
        return new SignalRSpecClient(name, client, await client.InvokeAsync<string>("ConnectionId"), user);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    internal static Uri HubUri(Uri gateway, string? user = null) =>
        new($"ws://{gateway.Authority}/realtime" + (user is null ? "" : $"?access_token={Uri.EscapeDataString(TestTokens.Create(user))}"));
}

/// <summary>
/// One RealtimeHub connection. A message is the hub's <c>event</c> with the text as its data; the barrier is an
/// <c>Echo</c>; coming back is <c>Resume</c> with the ticket of <c>Session</c> and the last position in each room.
/// </summary>
public sealed class SignalRSpecClient(string name, SignalRTestClient client, string id, string? user) : ISpecClient
{
    private const string Text = "text";

    /// <summary>What earlier connections of this client received, before it came back on a new one.</summary>
    private readonly List<string> _before = [];
    private SignalRTestClient _client = client;

    public string Name => name;

    public string Id { get; private set; } = id;

    public IReadOnlyList<string> Received => [.. _before, .. Texts(_client)];

    public Task JoinAsync(string room) => CallAsync("Join", room);

    public Task LeaveAsync(string room) => CallAsync("Leave", room);

    public Task SendAsync(string room, string text) => CallAsync("SendToRoom", room, Text, text);

    public Task SendWithoutWaitingAsync(string room, string text) => _client.SendAsync("SendToRoom", room, Text, text);

    public Task BroadcastAsync(string text) => CallAsync("Broadcast", Text, text);

    public Task CloseRoomAsync(string room) => CallAsync("CloseRoom", room);

    public async Task<IReadOnlyList<string>> PresenceAsync(string room) =>
        [.. (await CallAsync("Presence", room)).EnumerateArray().Select(p => p.GetProperty("connectionId").GetString()!)];

    public Task WaitForAsync(Func<string, bool> match, int count = 1) =>
        _client.WaitForAsync("event", e => IsText(e) && match(e.Arguments[0].GetProperty("data").GetString()!), count);

    public Task WaitForRoomClosedAsync(string room) => _client.WaitForAsync("roomClosed", e => e.Arguments[0].GetString() == room);

    public Task BarrierAsync() => _client.BarrierAsync();

    public async Task DisconnectedByServerAsync()
    {
        _ = _client.InvokeAsync("Disconnect").ContinueWith(static _ => { }, TaskScheduler.Default); // it may never answer
        await _client.Closed.Within($"the server to close {name}'s connection");
        Assert.True(_client.ReceivedOn("disconnecting").Any(e => e.Arguments[0].GetString() == "requested"), $"{name} was told why before the close");
    }

    public async Task<bool> DropAndComeBackAsync(Uri gateway, Func<Task> whileAway)
    {
        var ticket = await _client.InvokeAsync("Session");
        var positions = _client.ReceivedOn("event")
            .Select(e => e.Arguments[0])
            .Where(e => e.TryGetProperty("room", out var room) && room.ValueKind == JsonValueKind.String)
            .GroupBy(e => e.GetProperty("room").GetString())
            .Select(room => room.Last())
            .Select(e => new { room = e.GetProperty("room").GetString(), epoch = e.GetProperty("epoch").GetString(), seq = e.GetProperty("seq").GetInt64() })
            .ToArray();
        _before.AddRange(Texts(_client));
        await _client.DisposeAsync();

        await whileAway();

        _client = await SignalRTestClient.ConnectAsync(SignalRSpecClients.HubUri(gateway, user), name);
        var result = await _client.InvokeAsync("Resume", ticket.GetProperty("connectionId").GetString(), ticket.GetProperty("token").GetString(), positions);
        Id = await _client.InvokeAsync<string>("ConnectionId");
        return result.GetProperty("recovered").GetBoolean();
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();

    private async Task<JsonElement> CallAsync(string method, params object?[] args)
    {
        try
        {
            return await _client.InvokeAsync(method, args);
        }
        catch (HubErrorException error)
        {
            throw new SpecErrorException(error.Message, error);
        }
    }

    private static bool IsText(ReceivedInvocation e) => e.Arguments[0].GetProperty("event").GetString() == Text;

    private static IEnumerable<string> Texts(SignalRTestClient client) =>
        client.ReceivedOn("event").Where(IsText).Select(e => e.Arguments[0].GetProperty("data").GetString()!);
}
