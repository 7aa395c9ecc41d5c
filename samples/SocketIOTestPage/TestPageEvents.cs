using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Realtime.Gateway.Authorization;
using Realtime.Gateway.SocketIO;

namespace Realtime.Samples.SocketIOTestPage;

/// <summary>
/// The events of the flask-socketio test page, served from any gateway of the cluster: each answer goes out on
/// <c>my_response</c> as <c>{ data, count }</c>, where count is how many events this socket has sent.
/// </summary>
public static class TestPageEvents
{
    public const string Response = "my_response";

    // How the answers are written: source-generated, no reflection.
    private static readonly JsonTypeInfo<PageResponse> AsJson = TestPageJson.Default.PageResponse;

    public static void Configure(SocketIOServer io) => io.Sockets.OnConnection(OnConnected);

    private static async Task OnConnected(Socket socket)
    {
        // A socket whose state was recovered after a reconnect keeps its count, and has been greeted already.
        if (!socket.Recovered)
        {
            socket.Data["count"] = 0;
            await socket.EmitAsync(Response, Answer("Connected", 0), AsJson);
        }

        // Back to the sender only.
        On(socket, "my_event", e => socket.EmitAsync(Response, Answer(Data(e), Count(socket)), AsJson));

        // To every socket of the namespace, on every gateway.
        On(socket, "my_broadcast_event", async e =>
        {
            if (await AllowedAsync(e, RealtimeOperation.Broadcast, null))
            {
                await socket.Namespace.EmitAsync(Response, Answer(Data(e), Count(socket)), AsJson);
            }
        });

        On(socket, "join", async e =>
        {
            if (!await AllowedAsync(e, RealtimeOperation.Join, Room(e)))
            {
                return;
            }

            await socket.JoinAsync(Room(e));
            await socket.EmitAsync(Response, Answer("In rooms: " + string.Join(", ", socket.Rooms), Count(socket)), AsJson);
        });

        On(socket, "leave", async e =>
        {
            await socket.LeaveAsync(Room(e));
            await socket.EmitAsync(Response, Answer("In rooms: " + string.Join(", ", socket.Rooms), Count(socket)), AsJson);
        });

        // Every member hears that the room closes, then no one is in it.
        On(socket, "close_room", async e =>
        {
            var room = Room(e);
            if (!await AllowedAsync(e, RealtimeOperation.Close, room))
            {
                return;
            }

            await socket.Namespace.To(room).EmitAsync(Response, Answer($"Room {room} is closing.", Count(socket)), AsJson);
            await socket.Namespace.CloseRoomAsync(room);
        });

        On(socket, "my_room_event", async e =>
        {
            if (await AllowedAsync(e, RealtimeOperation.Send, Room(e)))
            {
                await socket.Namespace.To(Room(e)).EmitAsync(Response, Answer(Data(e), Count(socket)), AsJson);
            }
        });

        // The client acknowledges the goodbye (the page's handler calls its callback), then the server disconnects it.
        On(socket, "disconnect_request", async _ =>
        {
            try
            {
                await socket.EmitWithAckAsync(Response, [Answer("Disconnected!", Count(socket))], TimeSpan.FromSeconds(5));
            }
            catch (TimeoutException)
            {
                // Disconnect anyway.
            }

            await socket.DisconnectAsync();
        });

        // The page measures its latency with these.
        On(socket, "my_ping", e => e.HasAck ? e.AckAsync() : socket.EmitAsync("my_pong"));
    }

    /// <summary>
    /// Handles a test-page event as flask-socketio does: a client that passed a callback is always answered, with no
    /// arguments unless the handler answered it itself.
    /// </summary>
    private static void On(Socket socket, string eventName, Func<SocketIOEvent, Task> handler) =>
        socket.On(eventName, async e =>
        {
            await handler(e);
            return (object?)null;
        });

    /// <summary>
    /// Whether the namespace's permissions (<c>Permissions</c>) let the client do this; when not, the client is told
    /// why, on <c>my_response</c> and in its callback if it passed one, and the socket goes on.
    /// </summary>
    private static async Task<bool> AllowedAsync(SocketIOEvent e, RealtimeOperation operation, string? room)
    {
        try
        {
            await e.Socket.EnsureAllowedAsync(operation, room);
            return true;
        }
        catch (RealtimeForbiddenException refused)
        {
            await e.AckAsync(new { error = refused.Message });
            await e.Socket.EmitAsync(Response, Answer(refused.Message, Count(e.Socket)), AsJson);
            return false;
        }
    }

    /// <summary>Counts the socket's events, in its data, which every gateway can read.</summary>
    private static int Count(Socket socket)
    {
        var count = (int?)socket.Data["count"] ?? 0;
        socket.Data["count"] = ++count;
        return count;
    }

    /// <summary>The event's <c>data</c> as the JSON value it came as (an object stays an object), as flask-socketio echoes it.</summary>
    private static JsonElement Data(SocketIOEvent e) => e.Args.Count > 0 && e.Args[0].TryGetProperty("data", out var data) ? data.Clone() : Text("");

    private static PageResponse Answer(JsonElement data, int count) => new(data, count);

    private static PageResponse Answer(string text, int count) => new(Text(text), count);

    private static JsonElement Text(string text) => JsonSerializer.SerializeToElement(text, TestPageJson.Default.String);

    private static string Room(SocketIOEvent e) =>
        e.Args.Count > 0 && e.Args[0].TryGetProperty("room", out var room) && room.GetString() is { Length: > 0 } name
            ? name
            : throw new ArgumentException("The message needs a room.");
}
