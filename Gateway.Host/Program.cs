using Realtime.Gateway.Hosting;

var app = GatewayApplication.Build(args);
app.Run();
