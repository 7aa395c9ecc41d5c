using Realtime.AppHost;

// The whole cluster on one machine, under Aspire: Redis (the membership table), two silos without connections, two
// gateways and nginx round robin in front of them (http://127.0.0.1:5000/), each with its logs, and the nodes with their
// metrics and traces, in Aspire's dashboard. `dotnet run --project AppHost`.
var builder = DistributedApplication.CreateBuilder(args);
var ports = AppHostPorts.From(builder.Configuration);

var redis = RedisServer.Add(builder, "redis", ports.Redis);

for (var i = 1; i <= ports.Silos; i++)
{
    builder.AddProject<Projects.Silo>($"silo{i}")
        .AsRealtimeNode(redis, ports.SiloHttp(i), ports.SiloPort(i), ports.ClientGatewayPort(i))
        .WithEnvironment("Silo__HttpPort", ports.SiloHttp(i).ToString(System.Globalization.CultureInfo.InvariantCulture));
}

var gateways = new List<(IResourceBuilder<ProjectResource> Gateway, int Port)>();
for (var i = 1; i <= ports.Gateways; i++)
{
    var gateway = builder.AddProject<Projects.Gateway_Host>($"gateway{i}")
        .AsRealtimeNode(redis, ports.GatewayHttp(i), ports.GatewaySiloPort(i), clientGatewayPort: 0)
        .WithEnvironment("Gateway__Mode", "Cluster")
        .WithEnvironment("Gateway__Name", "gateway" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .WithEnvironment("Urls", "http://127.0.0.1:" + ports.GatewayHttp(i).ToString(System.Globalization.CultureInfo.InvariantCulture));
    gateways.Add((gateway, ports.GatewayHttp(i)));
}

LoadBalancer.AddIfInstalled(builder, ports.FirstPort, gateways);

builder.Build().Run();
