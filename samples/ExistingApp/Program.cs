using Microsoft.AspNetCore.SignalR;
using Realtime.Gateway.Hosting;
using Realtime.Gateway.Http;
using Realtime.Gateway.SocketIO;
using Realtime.Samples.ExistingApp;

// An application of its own (its hub, its page, its endpoints) made clustered by the gateway library: run two of it
// with the cluster's settings and a client of either sees the groups, users and broadcasts of both.
//   dotnet run --project samples/ExistingApp -- --Gateway:Mode=Cluster --Cluster:Redis=127.0.0.1:6379 \
//     --Cluster:SiloPort=11121 --Cluster:GatewayPort=0 --Urls=http://127.0.0.1:5081
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

// The lines that make it clustered: this process is a node of the realtime cluster, and SignalR goes through it.
builder.AddRealtimeGatewaySilo();
builder.Services.AddSignalR().AddRealtime(builder.Configuration);

// Readiness for a load balancer or Kubernetes: ready once this node is active in the cluster and its hubs know it.
builder.Services.AddHealthChecks().AddRealtimeGateway();

// socket.io clients on the same application: an event handler, and a broadcast to every socket of every node.
builder.Services.ConfigureSocketIO(io => io.Sockets.OnConnection(socket =>
    socket.On("say", e => io.Sockets.EmitAsync("said", new Said(socket.Id, e.Args[0].GetString() ?? "")))));

var app = builder.Build();
app.UseStaticFiles();
app.MapGet("/", () => Results.File(Path.Combine(AppContext.BaseDirectory, "wwwroot", "chat.html"), "text/html"));
app.MapHub<ChatHub>("/chat");
app.MapSocketIO();
app.MapRealtimeBrowserClients(); // the SignalR browser client for the page, at /lib/signalr/signalr.min.js
app.MapHealthChecks("/healthz/ready");

// A controller-style endpoint: IHubContext reaches the hub's clients on every node.
app.MapPost("/announce", async (string text, IHubContext<ChatHub> hub) =>
{
    await hub.Clients.All.SendAsync("announcement", text);
    return Results.Accepted();
});
app.Run();
