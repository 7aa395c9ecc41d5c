using System.Text.RegularExpressions;
using Realtime.Gateway.SocketIO;

namespace Realtime.Samples.SocketIOTestPage;

/// <summary>
/// Beyond the test page: a namespace behind a password (connection middleware), binary data, acknowledgements in
/// both directions and a broadcast that collects every client's answer; namespaces made on demand; what
/// the server knows of a socket (<c>whoami</c>), to see a recovered session; and who is in a room (<c>members</c>).
/// </summary>
public static partial class MoreEvents
{
    /// <summary>The password clients pass as <c>auth: { password }</c> to enter <c>/private</c>.</summary>
    public const string Password = "open sesame";

    public static void Configure(SocketIOServer io)
    {
        io.Of("/private")
            .Use(socket => socket.Handshake.Auth.TryGetProperty("password", out var password) && password.GetString() == Password
                ? Task.CompletedTask
                : throw new SocketIOConnectionRefusedException("wrong password", new { hint = "pass auth: { password }" }))
            .OnConnection(socket =>
            {
                socket.On("join", async e =>
                {
                    await socket.JoinAsync(e.Args.Get<string>(0)!);
                    await e.AckAsync(socket.Rooms);
                });

                // Binary in: the size and the first bytes go back in the acknowledgement, the bytes to the room's other members.
                socket.On("upload", async e =>
                {
                    var room = e.Args.Get<string>(0)!;
                    var bytes = e.Args.GetBytes(1);
                    await socket.To(room).EmitAsync("file", new { from = socket.Id, size = bytes.Length }, bytes);
                    await e.AckAsync(new { size = bytes.Length, head = bytes[..Math.Min(16, bytes.Length)] });
                });

                // The server asks the client, and passes its answer back to the asker.
                socket.On("ask", async e =>
                {
                    var answer = await socket.EmitWithAckAsync("question", [e.Args.Get<string>(0)], TimeSpan.FromSeconds(5));
                    await e.AckAsync(answer.ToJson());
                });

                // Every socket of a room, on every gateway, votes; the asker gets the votes.
                socket.On("poll", async e =>
                {
                    try
                    {
                        var poll = socket.Namespace.To(e.Args.Get<string>(0)!).Timeout(TimeSpan.FromSeconds(3));
                        var votes = await poll.EmitWithAckAsync("vote", e.Args.Get<string>(1));
                        await e.AckAsync(new { votes, missing = 0 });
                    }
                    catch (SocketIOAckTimeoutException timeout)
                    {
                        await e.AckAsync(new { votes = timeout.Responses, missing = timeout.Expected - timeout.Responses.Count });
                    }
                });
            });

        // What the server knows of the socket: after a reconnect with connection state recovery
        // (SocketIO__ConnectionStateRecovery__Enabled=true), the same id, rooms and data, and recovered = true.
        io.Sockets.OnConnection(socket => socket.On("whoami", _ => Task.FromResult<object?>(new { id = socket.Id, recovered = socket.Recovered, rooms = socket.Rooms, data = socket.Data })));

        // The ids of a room's sockets, on every gateway: presence, as socket.io's fetchSockets() gives it.
        io.Sockets.OnConnection(socket => socket.On("members", async e =>
            (object?)(await socket.Namespace.In(e.Args.Get<string>(0)!).FetchSocketsAsync()).Select(s => s.Id).ToArray()));

        // /room-1, /room-2...: made the first time a client asks for one.
        io.Of(DynamicName(), @namespace => @namespace.OnConnection(socket => socket.On("where", e => e.AckAsync(@namespace.Name))));
    }

    [GeneratedRegex(@"^/room-\d+$")]
    private static partial Regex DynamicName();
}
