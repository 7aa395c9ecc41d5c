using System.Net;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using Realtime.Contracts.Hosting;
using Realtime.Grains.Gateways;
using Realtime.Hosting;
using Realtime.Hosting.Silos;
using Realtime.Silo.Hosting;

// A silo without connections: an Orleans silo that hosts realtime grains beside the gateways (which are silos too),
// joins the cluster through the membership table in Redis, and serves other silos (Cluster:SiloPort) and internal
// services (Orleans clients, Cluster:GatewayPort). Health endpoints are on Silo:HttpPort.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddOptions<SiloOptions>().Bind(builder.Configuration.GetSection(SiloOptions.SectionName)).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<SiloOptions>, SiloOptionsValidator>();
builder.AddRealtimeLogLevels();
builder.AddRealtimeSilo(SiloRoles.Grains);
builder.AddRealtimeTelemetry("realtime-silo");
var http = builder.Configuration.GetSection(SiloOptions.SectionName).Get<SiloOptions>() ?? new SiloOptions();
var cluster = builder.Configuration.GetSection(RealtimeClusterOptions.SectionName).Get<RealtimeClusterOptions>() ?? new RealtimeClusterOptions();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(cluster.ListenAddress), http.HttpPort));

var app = builder.Build();
app.MapRealtimeMetrics();
// The dashboard's page, when the cluster runs its services (Cluster:Dashboard, on every node alike).
if (cluster.Dashboard)
{
    app.MapOrleansDashboard(http.DashboardPath);
}

app.MapGet("/healthz", () => "ok");

// Ready once the cluster's membership lists this silo as active: it then takes calls and hosts grains.
app.MapGet("/healthz/ready", (IClusterMembershipService membership, ILocalSiloDetails silo) =>
    membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress) == SiloStatus.Active
        ? Results.Text("ready")
        : Results.Text("not active in the cluster yet", statusCode: 503));
app.MapGet("/stats", async (IGrainFactory grains, ILocalSiloDetails silo) =>
{
    var stats = await grains.GetGrain<IManagementGrain>(0).GetRuntimeStatistics([silo.SiloAddress]);
    return Results.Json(new { node = silo.SiloAddress.ToString(), activations = stats[0].ActivationCount });
});

// The cluster's silos and their status as this silo's membership view has them now (no call to any other silo).
app.MapGet("/stats/silos", (IClusterMembershipService membership) =>
    Results.Json(membership.CurrentSnapshot.Members.Values.Select(m => new { silo = m.SiloAddress.ToString(), name = m.Name, status = m.Status.ToString() })));

// Where a grain is active now, cluster-wide (its silo, or null): /stats/grain?id=room/RealtimeHub//lobby
app.MapGet("/stats/grain", async (string id, IGrainFactory grains) =>
{
    if (!GrainId.TryParse(id, out var grainId))
    {
        return Results.Problem(detail: $"'{id}' is not a grain id (type/key, as room/RealtimeHub//lobby).", statusCode: 400);
    }

    var silo = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grains.GetGrain(grainId));
    return Results.Json(new { grain = id, silo = silo?.ToString() });
});
app.Lifetime.ApplicationStopped.Register(() =>
    app.Logger.LogInformation("Silo {Silo} left the cluster.", app.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress));
app.Run();
