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
            await ns.To(room).EmitAsync("event", new { @event = e.Args[1], data = e.Args[2], @namespace = ns.Name, room, from = socket.Id });
            await e.AckAsync(true);
        });
        socket.On("broadcast", e =>
            ns.EmitAsync("event", new { @event = e.Args[0], data = e.Args[1], @namespace = ns.Name, room = (string?)null, from = socket.Id }));
    }
}
