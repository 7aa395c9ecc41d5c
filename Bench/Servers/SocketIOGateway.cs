using System.Text.Json;
using System.Text.Json.Serialization;
using Realtime.Gateway.Hosting;
using Realtime.Gateway.SocketIO;

namespace Realtime.Bench.Servers;

/// <summary>
/// A gateway of this project whose socket.io default namespace answers the events the socket.io comparison server
/// answers (<c>Bench/socketio/server.cjs</c>), so that the same socket.io load client drives both.
/// </summary>
public static class SocketIOGateway
{
    public static WebApplication Build(string[] args) =>
        GatewayApplication.Build(args, builder => builder.Services.ConfigureSocketIO(io => io.Sockets.OnConnection(OnConnected)));

    private static void OnConnected(Socket socket)
    {
        var ns = socket.Namespace;
        socket.On("id", e => e.AckAsync(socket.Id));
        socket.On("join", async e =>
        {
            await socket.JoinAsync(e.Args.Get<string>(0)!);
            await e.AckAsync(socket.Id);
        });
        socket.On("leave", async e =>
        {
            await socket.LeaveAsync(e.Args.Get<string>(0)!);
            await e.AckAsync(socket.Id);
        });
        socket.On("room", async e =>
        {
            var room = e.Args.Get<string>(0)!;
            await ns.To(room).EmitAsync("event", new BenchEvent(e.Args[1], e.Args[2], ns.Name, room, socket.Id), BenchJson.Default.BenchEvent);
            await e.AckAsync(true);
        });
        socket.On("broadcast", e =>
            ns.EmitAsync("event", new BenchEvent(e.Args[0], e.Args[1], ns.Name, null, socket.Id), BenchJson.Default.BenchEvent));
    }
}

/// <summary>What the bench's socket.io clients receive on <c>event</c>, as the socket.io comparison server sends it.</summary>
public sealed record BenchEvent(JsonElement Event, JsonElement Data, string Namespace, string? Room, string From);

/// <summary>The bench gateway's JSON, source-generated, as an application on the fast path would have it.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(BenchEvent))]
internal sealed partial class BenchJson : JsonSerializerContext;
