using System.Net;
using Microsoft.Extensions.Options;
using Realtime.Grains;
using Realtime.Runtime;
using Realtime.Runtime.Hosting;
using Realtime.Silo;

// A silo: hosts the realtime grains, keeps the membership table with the other silos, and serves gateways and
// other silos on Cluster:SiloPort. Health endpoints for probes are on Silo:HttpPort.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddOptions<SiloOptions>().Bind(builder.Configuration.GetSection(SiloOptions.SectionName)).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<SiloOptions>, SiloOptionsValidator>();
builder.Services.AddOptions<ClusterOptions>().Bind(builder.Configuration.GetSection(ClusterOptions.SectionName));
builder.Services.AddOptions<GrainRuntimeOptions>().Bind(builder.Configuration.GetSection(GrainRuntimeOptions.SectionName));
builder.Services.AddClusterSilo(runtime => runtime.AddRealtimeGrains());
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.ListenForClusterNodes();
    var cluster = kestrel.ApplicationServices.GetRequiredService<IOptions<ClusterOptions>>().Value;
    var silo = kestrel.ApplicationServices.GetRequiredService<IOptions<SiloOptions>>().Value;
    kestrel.Listen(IPAddress.Parse(cluster.ListenAddress), silo.HttpPort);
});

var app = builder.Build();
app.MapGet("/healthz", () => "ok");
app.MapGet("/stats", (NodeIdentity node, IRuntimeStatistics runtime) => Results.Json(new { node = node.Name, activations = runtime.ActivationCount }));
app.MapGet("/healthz/ready", (IClusterMembership membership, NodeIdentity node) =>
    membership.ActiveSilos.Contains(node.Name) ? Results.Text("ready") : Results.Text("not active in the cluster yet", statusCode: 503));
app.Run();
