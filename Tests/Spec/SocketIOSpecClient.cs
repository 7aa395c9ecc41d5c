using System.Text.Json;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Spec;

/// <summary>
/// npm <c>socket.io-client</c> sockets of the socket.io sample's default namespace: the spec's words as the
/// flask-socketio test page's events (<c>join</c>, <c>leave</c>, <c>my_room_event</c>, <c>my_broadcast_event</c>,
/// <c>close_room</c>, <c>disconnect_request</c>) and the sample's <c>members</c>.
/// </summary>
public sealed class SocketIOSpecClients : ISpecClients
{
    private readonly SocketIOClients _clients;

    private SocketIOSpecClients(SocketIOClients clients) => _clients = clients;

    public static async Task<SocketIOSpecClients> StartAsync() => new(await SocketIOClients.StartAsync());

    public async Task<ISpecClient> ConnectAsync(string name, Uri gateway, string? user = null)
    {
        var options = user is null
            ? (object)new { transports = new[] { "websocket" } }
            : new { transports = new[] { "websocket" }, query = new { access_token = TestTokens.Create(user) } };
        var id = await _clients.ConnectOrThrowAsync(name, gateway.ToString().TrimEnd('/'), options);
        return new SocketIOSpecClient(_clients, name, id);
    }

    public ValueTask DisposeAsync() => _clients.DisposeAsync();
}

/// <summary>
/// One socket. A message is a <c>my_response</c> whose data is the text (the test page's own answers, "Connected",
/// "In rooms: …", "Room … is closing.", "Disconnected!", and the barrier's echoes are not messages), or an event
/// <c>text</c> from a service. Coming back is socket.io connection state recovery: socket.io-client reconnects to the
/// address it first used.
/// </summary>
public sealed class SocketIOSpecClient(SocketIOClients clients, string name, string id) : ISpecClient
{
    private const string Response = "my_response";
    private const string BarrierPrefix = "barrier:";
    private const string Closing = " is closing.";

    public string Name => name;

    public string Id { get; private set; } = id;

    public IReadOnlyList<string> Received =>
    [
        .. clients.Received(name)
            .Where(e => e.Event is Response or "text")
            .Select(e => e.Event == Response ? e.Args[0].GetProperty("data").GetString()! : e.Args[0].GetString()!)
            .Where(IsText),
    ];

    public Task JoinAsync(string room) => AskAsync("join", new { room });

    public Task LeaveAsync(string room) => AskAsync("leave", new { room });

    public Task SendAsync(string room, string text) => AskAsync("my_room_event", new { room, data = text });

    public Task SendWithoutWaitingAsync(string room, string text) => clients.EmitAsync(name, "my_room_event", new { room, data = text });

    public Task BroadcastAsync(string text) => AskAsync("my_broadcast_event", new { data = text });

    public Task CloseRoomAsync(string room) => AskAsync("close_room", new { room });

    public async Task<IReadOnlyList<string>> PresenceAsync(string room) =>
        [.. (await clients.EmitWithAckAsync(name, "members", room))[0].EnumerateArray().Select(id => id.GetString()!)];

    public Task WaitForAsync(Func<string, bool> match, int count = 1) =>
        Eventually.True(() => Received.Count(match) >= count, $"{name} to receive {count} matching messages", TimeSpan.FromSeconds(15));

    public Task WaitForRoomClosedAsync(string room) => clients.WaitForResponseAsync(name, $"Room {room}{Closing}");

    public async Task BarrierAsync()
    {
        var marker = BarrierPrefix + Guid.NewGuid().ToString("N");
        await clients.EmitAsync(name, "my_event", new { data = marker });
        await clients.WaitForResponseAsync(name, marker);
    }

    public async Task DisconnectedByServerAsync()
    {
        // The server says goodbye and waits for the client to acknowledge it before it disconnects.
        await clients.AnswerAsync(name, Response);
        await clients.EmitAsync(name, "disconnect_request");
        await clients.WaitForAsync(name, "$disconnect", a => a[0].GetString() == "io server disconnect");
    }

    public async Task<bool> DropAndComeBackAsync(Uri gateway, Func<Task> whileAway)
    {
        var disconnects = clients.Received(name, "$disconnect").Count;
        await clients.DropAsync(name);
        await Eventually.True(() => clients.Received(name, "$disconnect").Count > disconnects, $"{name} to see its connection lost");

        await whileAway();

        var back = await clients.ReconnectAsync(name);
        Id = back.GetProperty("id").GetString()!;
        return back.GetProperty("recovered").GetBoolean();
    }

    public async ValueTask DisposeAsync()
    {
        if ((await clients.StateAsync(name)).GetProperty("connected").GetBoolean())
        {
            await clients.DisconnectAsync(name);
        }
    }

    /// <summary>An event with a callback; the test page answers a refusal in the callback as <c>{ error }</c>.</summary>
    private async Task AskAsync(string eventName, object data)
    {
        var answer = await clients.EmitWithAckAsync(name, eventName, data);
        if (answer.GetArrayLength() > 0 && answer[0].ValueKind == JsonValueKind.Object && answer[0].TryGetProperty("error", out var error))
        {
            throw new SpecErrorException(error.GetString()!);
        }
    }

    private static bool IsText(string data) =>
        data is not ("Connected" or "Disconnected!") && !data.StartsWith("In rooms: ", StringComparison.Ordinal)
        && !data.StartsWith(BarrierPrefix, StringComparison.Ordinal) && !data.EndsWith(Closing, StringComparison.Ordinal);
}
