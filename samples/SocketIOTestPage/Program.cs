using Realtime.Gateway.Hosting;
using Realtime.Gateway.SocketIO;
using Realtime.Samples.SocketIOTestPage;

// A gateway (embedded, or one of a cluster with Gateway__Mode=Cluster) whose socket.io default namespace answers the
// flask-socketio test page's events; the page is served at /.
var app = GatewayApplication.Build(
    args,
    builder =>
    {
        builder.Configuration["Gateway:DemoPage"] = "false";
        builder.Services.ConfigureSocketIO(TestPageEvents.Configure);
        builder.Services.ConfigureSocketIO(MoreEvents.Configure);
    },
    app => app.MapGet("/", () => Results.File(Path.Combine(AppContext.BaseDirectory, "page", "index.html"), "text/html; charset=utf-8")));
app.Run();
