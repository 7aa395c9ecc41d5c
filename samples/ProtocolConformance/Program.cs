using Realtime.Gateway.Hosting;
using Realtime.Gateway.SocketIO;
using Realtime.Gateway.SocketIO.Engine;

// The server that the official protocol test suites (the test-suite/ folders of socketio/engine.io-protocol and
// socketio/socket.io-protocol) expect, as their READMEs describe it, built on this project's APIs: socket.io at
// /socket.io/ (the default namespace and /custom greet with the client's auth; "message" is echoed back as
// "message-back", "message-with-ack" is acknowledged with its arguments), and a plain Engine.IO endpoint at
// /engine.io/ that echoes every message. Their timings: a 300 ms ping interval, a 200 ms ping timeout, 1 s to connect.
// A gateway like any other otherwise: embedded by default, or one of a cluster with --Gateway:Mode=Cluster.
var timings = new Dictionary<string, string?>
{
    ["Gateway:DemoPage"] = "false",
    ["SocketIO:PingInterval"] = "00:00:00.300",
    ["SocketIO:PingTimeout"] = "00:00:00.200",
    ["SocketIO:ConnectTimeout"] = "00:00:01",
    ["SocketIO:MaxPayload"] = "1000000",
    ["SocketIO:CorsOrigins:0"] = "*",
};

var app = GatewayApplication.Build(
    args,
    builder =>
    {
        // Below the command line, so that a run can change them.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = timings });
        builder.Services.ConfigureSocketIO(io =>
        {
            io.Sockets.OnConnection(async socket =>
            {
                await socket.EmitAsync("auth", socket.Handshake.Auth);
                socket.On("message", e => socket.EmitAsync("message-back", e.Args.ToValues()));
                socket.On("message-with-ack", e => e.AckAsync(e.Args.ToValues()));
            });
            io.Of("/custom").OnConnection(socket => socket.EmitAsync("auth", socket.Handshake.Auth));
        });
    },
    app => app.MapEngineIO(
        "/engine.io",
        socket => socket.OnMessage(message => socket.Send(message)),
        options =>
        {
            options.PingInterval = TimeSpan.FromMilliseconds(300);
            options.PingTimeout = TimeSpan.FromMilliseconds(200);
            options.CorsOrigins = ["*"];
        }));
app.Run();
